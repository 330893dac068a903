// Generates what the docs can take from the code (npm run readme; `--check` only compares):
// README.md's table of check types from the registry (src/checks/registry.ts: names, aliases,
// summaries), one page per type required under docs/checks/, and docs/cli.md's option list
// from the CLI's help text. Run with tsx (it imports the TypeScript sources).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadCheckTypes } from '../src/checks/registry.ts';
import { HELP } from '../src/cli/main.ts';

const check = process.argv.includes('--check');
const problems = [];

const types = await loadCheckTypes();
const pages = new Set(readdirSync('docs/checks').filter((f) => f.endsWith('.md')).map((f) => f.slice(0, -3)));
for (const { type } of types) if (!pages.has(type.type)) problems.push(`docs/checks/${type.type}.md is missing: every check type has a page`);
for (const page of pages) if (!types.some(({ type }) => type.type === page)) problems.push(`docs/checks/${page}.md documents no registered check type`);

const table = [
  '| type | checks that | page |',
  '| --- | --- | --- |',
  ...types.map(({ type, definition }) => {
    const names = [type.type, ...type.aliases].map((n) => `\`${n}\``).join(', ');
    return `| ${names} | ${definition.summary} | [docs/checks/${type.type}.md](docs/checks/${type.type}.md) |`;
  }),
].join('\n');

const options = HELP.slice(HELP.indexOf('Options:'), HELP.indexOf('\nExit status')).trimEnd();

function fill(file, name, body) {
  const text = readFileSync(file, 'utf8');
  const start = `<!-- ${name}: generated from `;
  const end = `<!-- end of ${name} -->`;
  const a = text.indexOf(start);
  const b = text.indexOf(end);
  if (a < 0 || b < a) {
    problems.push(`${file} lacks the ${name} markers`);
    return;
  }
  const head = text.indexOf('-->', a) + 3;
  const next = `${text.slice(0, head)}\n\n${body}\n\n${text.slice(b)}`;
  if (next === text) return;
  if (check) problems.push(`${file}: the ${name} are stale: run npm run readme`);
  else {
    writeFileSync(file, next);
    console.log(`${file}: ${name} updated`);
  }
}

fill('README.md', 'check types', table);
fill('docs/cli.md', 'cli options', '```\n' + options + '\n```');
if (!existsSync('docs/checks')) problems.push('docs/checks/ is missing');
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
