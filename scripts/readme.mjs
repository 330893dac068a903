// Puts the check-type fragments (docs/fragments/*.md) into README.md between its markers,
// in the registry's order (npm run readme).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const order = ['tcp', 'tls', 'udp', 'http', 'postgres', 'mysql', 'redis', 'memcache', 'amqp', 'mongodb', 'smtp', 'dns', 'nats', 'mqtt'];
const start = '<!-- check types: assembled from docs/fragments/*.md by `npm run readme` -->';
const end = '<!-- end of check types -->';
const parts = order.filter((t) => existsSync(`docs/fragments/${t}.md`)).map((t) => readFileSync(`docs/fragments/${t}.md`, 'utf8').trim());
const readme = readFileSync('README.md', 'utf8');
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error('README.md lacks the check-type markers');
writeFileSync('README.md', `${readme.slice(0, a + start.length)}\n\n${parts.join('\n\n')}\n\n${readme.slice(b)}`);
console.log(`README.md: ${parts.length} check types`);
