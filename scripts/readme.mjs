// Puts the fragments of docs/fragments/ into README.md between its markers (npm run readme):
// the check types in the registry's order, the fault table, the benchmark table.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const sections = [
  {
    name: 'check types',
    files: ['tcp', 'tls', 'udp', 'http', 'postgres', 'mysql', 'redis', 'memcache', 'amqp', 'mongodb', 'smtp', 'dns', 'nats', 'mqtt', 'ssh', 'ldap'],
  },
  { name: 'faults', files: ['faults'] },
  { name: 'benchmark', files: ['benchmark'] },
];

let readme = readFileSync('README.md', 'utf8');
for (const { name, files } of sections) {
  const start = `<!-- ${name}: assembled from docs/fragments/`;
  const end = `<!-- end of ${name} -->`;
  const a = readme.indexOf(start);
  const b = readme.indexOf(end);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${name} markers`);
  const head = readme.indexOf('-->', a) + 3;
  const parts = files.filter((f) => existsSync(`docs/fragments/${f}.md`)).map((f) => readFileSync(`docs/fragments/${f}.md`, 'utf8').trim());
  readme = `${readme.slice(0, head)}\n\n${parts.join('\n\n')}\n\n${readme.slice(b)}`;
  console.log(`README.md: ${name}: ${parts.length} fragment${parts.length === 1 ? '' : 's'}`);
}
writeFileSync('README.md', readme);
