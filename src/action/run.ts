/**
 * The action: the only module that talks to @actions/core. It reads the inputs, gathers the
 * config, masks every secret before anything is logged, runs the checks and writes the log,
 * job summary, annotations and outputs, each through the same redaction.
 */
import * as core from '@actions/core';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DEFAULT_CONNECT_TIMEOUT_S, Input, MAX_RESULTS_OUTPUT_BYTES, MAX_SUMMARY_BYTES, MAX_TIMEOUT_S, Output } from '../core/constants.js';
import { allSecrets, ConfigError, formatIssue, gatherConfig, type ConfigIssue } from '../config/index.js';
import { MIN_MASK_LENGTH, secretForms } from '../secrets/index.js';
import { environmentAndSources } from '../config/sources.js';
import { servicesConfig, ServicesInputError } from './services.js';
import { loadCaPath } from '../net/tls.js';
import { configAnnotations, failureAnnotations, type Annotation } from '../report/annotations.js';
import { renderJson, toJsonResults } from '../report/json.js';
import { OutputGate } from '../report/gate.js';
import { escapeHtml, renderSummary } from '../report/summary.js';
import { textLine, verdict } from '../report/text.js';
import { isWarning, summarize, type CheckResult } from '../runner/result.js';
import { runChecks } from '../runner/run.js';
import { cancellation } from '../process.js';
import { checkSelection, excludedByTags, splitList } from '../runner/select.js';

class InputError extends Error {}

function numberInput(name: string, opts: { integer?: boolean; min: number; max: number }): number | undefined {
  const raw = core.getInput(name);
  if (raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isFinite(n) || (opts.integer && !Number.isInteger(n)) || n < opts.min || n > opts.max || (!opts.integer && n <= 0)) {
    throw new InputError(
      `input ${name}: expected ${opts.integer ? 'an integer' : 'a number of seconds'} ${opts.integer ? `${opts.min}-${opts.max}` : `> 0 and <= ${opts.max}`}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

function boolInput(name: string): boolean {
  try {
    return core.getBooleanInput(name);
  } catch {
    throw new InputError(`input ${name}: expected true or false, got ${JSON.stringify(core.getInput(name))}`);
  }
}

function annotate(a: Annotation, gate: OutputGate): void {
  const props: core.AnnotationProperties = { title: gate.text(a.title, 500) };
  if (a.file) {
    props.file = gate.text(a.file, 500);
    if (a.startLine !== undefined) props.startLine = a.startLine;
    if (a.startColumn !== undefined) props.startColumn = a.startColumn;
  }
  const message = gate.text(a.message);
  if (a.level === 'error') core.error(message, props);
  else core.warning(message, props);
}

async function writeSummary(html: string): Promise<void> {
  try {
    await core.summary.addRaw(html, true).write();
  } catch (err) {
    core.warning(`could not write the job summary: ${(err as Error).message}`);
  }
}

/** Asks the runner to mask every form of every secret (before anything else is logged). */
function setSecrets(secrets: Iterable<string>): void {
  const done = new Set<string>();
  for (const s of secrets) {
    for (const f of secretForms(s)) {
      if (f.length < MIN_MASK_LENGTH || done.has(f)) continue;
      done.add(f);
      core.setSecret(f);
    }
  }
}

/** A line for the log: untrusted parts cleaned by the caller, the whole guarded against commands. */
function info(gate: OutputGate, line: string): void {
  core.info(gate.stream(line));
}

export async function run(): Promise<void> {
  const gate = new OutputGate();
  const cancel = cancellation();
  try {
    const workspace = process.env.GITHUB_WORKSPACE || process.cwd();
    const connectTimeoutS = numberInput(Input.ConnectTimeout, { min: 0, max: MAX_TIMEOUT_S }) ?? DEFAULT_CONNECT_TIMEOUT_S;
    const maxTimeoutS = numberInput(Input.MaxTimeout, { min: 0, max: MAX_TIMEOUT_S });
    const waitS = numberInput(Input.Wait, { min: 0, max: MAX_TIMEOUT_S });
    const reportFile = core.getInput(Input.ReportFile);
    const concurrency = numberInput(Input.Concurrency, { integer: true, min: 1, max: 100_000 });
    const includeTags = splitList(core.getInput(Input.IncludeTags));
    const excludeTags = splitList(core.getInput(Input.ExcludeTags));
    if (includeTags.length && excludeTags.length) throw new InputError(`inputs ${Input.IncludeTags} and ${Input.ExcludeTags} cannot both be set`);
    const patterns = splitList(core.getInput(Input.Patterns));
    const failOnError = boolInput(Input.FailOnError);
    const writeJobSummary = boolInput(Input.Summary);
    const validateOnly = boolInput(Input.ValidateOnly);
    const dryRun = boolInput(Input.DryRun);
    const paths = core.getMultilineInput(Input.Config);
    const inline = core.getInput(Input.Checks, { trimWhitespace: false });
    const envFiles = core.getMultilineInput(Input.EnvFile);
    const fromEnv = boolInput(Input.FromEnv);
    const servicesInput = core.getInput(Input.Services);
    if (!paths.length && inline.trim() === '' && !fromEnv && servicesInput.trim() === '') {
      throw new InputError(
        `no checks given: set the "${Input.Config}" input to the path of a conn-check YAML file (for example "${Input.Config}: .github/conn-check.yaml"), or "${Input.Checks}" to the checks as inline YAML`,
      );
    }
    const certsPath = core.getInput(Input.TlsCertsPath);
    let extraCa: string[] = [];
    if (certsPath) {
      try {
        extraCa = await loadCaPath(certsPath);
      } catch (err) {
        throw new InputError(`input ${Input.TlsCertsPath}: ${(err as Error).message.replace(/^tls-certs-path \S+: /, '')}`);
      }
    }

    let gathered;
    try {
      const more = await environmentAndSources(process.env, { envFiles, fromEnv, base: workspace, needed: !paths.length && inline.trim() === '' && servicesInput.trim() === '' });
      const services = await servicesFromInput(servicesInput);
      for (const note of [...more.notes, ...services.notes]) info(gate, gate.text(note));
      gathered = await gatherConfig({ paths, base: workspace, inline, env: { ...more.env, ...services.env }, sources: [...more.sources, ...(services.source ? [services.source] : [])], leftOutByTags: (tags) => excludedByTags(tags, { includeTags, excludeTags }) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // Mask what the broken config holds before a word of it is written.
      setSecrets(err.secrets);
      gate.mask(err.secrets);
      const issues = err.issues.map((i) => gate.value(i, 500));
      for (const a of configAnnotations(issues)) annotate(a, gate);
      const errors = issues.filter((i) => i.severity === 'error');
      if (writeJobSummary) await writeSummary(configErrorSummary(errors));
      const shown = errors.slice(0, 50).map(formatIssue);
      if (errors.length > shown.length) shown.push(`... and ${errors.length - shown.length} more (see the annotations)`);
      core.setFailed(`invalid conn-check config (${errors.length} problem${errors.length === 1 ? '' : 's'}):\n${shown.join('\n')}`);
      return;
    }

    const secrets = allSecrets(gathered.checks);
    setSecrets(secrets);
    gate.mask(secrets);
    for (const a of configAnnotations(gathered.warnings.map((i) => gate.value(i, 500)))) annotate(a, gate);

    if (validateOnly) {
      core.info(`The config is valid: ${gathered.checks.length} check${gathered.checks.length === 1 ? '' : 's'}.`);
      return;
    }
    const selection = { includeTags, excludeTags, patterns };
    const picked = checkSelection(gathered.checks, selection);
    for (const w of picked.warnings) core.warning(gate.text(w));
    if (picked.error) throw new InputError(gate.text(picked.error.replace(/--(include|exclude)-tags/g, 'input $1-tags')));
    core.info(`Running ${gathered.checks.length} check${gathered.checks.length === 1 ? '' : 's'}${dryRun ? ' (dry run)' : ''}...`);
    const outcome = await runChecks(gathered.checks, {
      connectTimeoutS,
      maxTimeoutS,
      waitS,
      concurrency,
      extraCa,
      selection,
      dryRun,
      signal: cancel.signal,
      onResult: (r) => info(gate, textLine(gate.value(r), { durations: true })),
    });
    // Results are cleaned as data (redacted, neutralised, cut) before anything renders them.
    const results = gate.value(outcome.results);
    const s = summarize(results, outcome.durationMs);
    info(gate, verdict(results, outcome.durationMs));

    core.setOutput(Output.Total, s.total);
    core.setOutput(Output.Passed, s.passed);
    core.setOutput(Output.Failed, s.failed);
    core.setOutput(Output.Warnings, s.warnings);
    core.setOutput(Output.Skipped, s.skipped);
    const failedNames = results.filter((r) => r.status === 'failed' && !isWarning(r)).map((r) => r.name);
    // (data, but a workflow may echo it: guarded like the log)
    core.setOutput(Output.FailedChecks, gate.stream(capLines(failedNames, MAX_RESULTS_OUTPUT_BYTES)));
    const output = resultsOutput(results, reportFile);
    core.setOutput(Output.Results, output.json);
    if (output.dropped) core.warning(output.warning);
    for (const a of failureAnnotations(results)) annotate(a, gate);
    if (writeJobSummary) await writeSummary(renderSummary(results, outcome.durationMs));
    if (reportFile) {
      const path = resolve(workspace, reportFile);
      try {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, renderJson(results));
        info(gate, `Results written to ${gate.text(reportFile)}.`);
      } catch (err) {
        core.warning(`could not write ${Input.ReportFile} ${reportFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }

    if (s.failed && failOnError) {
      const shown = failedNames.slice(0, 20).join(', ') + (failedNames.length > 20 ? `, and ${failedNames.length - 20} more` : '');
      core.setFailed(`${s.failed} of ${s.total - s.skipped} checks failed: ${shown}`);
    } else if (s.failed) {
      const shown = failedNames.slice(0, 20).join(', ') + (failedNames.length > 20 ? `, and ${failedNames.length - 20} more` : '');
      core.warning(`${s.failed} checks failed (fail-on-error is false): ${shown}`);
    }
    if (s.warnings) core.info(`${s.warnings} check${s.warnings === 1 ? '' : 's'} with severity warning failed; they do not fail the step.`);
  } catch (err) {
    if (err instanceof InputError) core.setFailed(gate.text(err.message));
    else core.setFailed(`conn-check failed unexpectedly: ${gate.lines((err as Error)?.stack ?? String(err))}`);
  } finally {
    cancel.dispose();
  }
}

/** Lines joined with newlines, as many as fit in `budget` bytes. */
function capLines(lines: readonly string[], budget: number): string {
  let used = 0;
  const out: string[] = [];
  for (const l of lines) {
    used += Buffer.byteLength(l) + 1;
    if (used > budget) break;
    out.push(l);
  }
  return out.join('\n');
}

/** The config's problems for the job summary, escaped, under the summary's size budget. */
export function configErrorSummary(errors: readonly ConfigIssue[], budget = MAX_SUMMARY_BYTES): string {
  const head = `<h2>conn-check</h2>\n<p><b>The config is invalid: ${errors.length} problem${errors.length === 1 ? '' : 's'}</b></p>\n<ul>\n`;
  const tail = '</ul>\n';
  let used = Buffer.byteLength(head) + Buffer.byteLength(tail) + 300;
  const items: string[] = [];
  for (const i of errors) {
    const item = `<li><code>${escapeHtml(formatIssue(i))}</code></li>\n`;
    const size = Buffer.byteLength(item);
    if (used + size > budget) break;
    items.push(item);
    used += size;
  }
  const cut = errors.length - items.length;
  const more = cut ? `<p>… and ${cut} more problem${cut === 1 ? '' : 's'} not shown (the summary has a size limit); see the annotations.</p>\n` : '';
  return head + items.join('') + tail + more;
}

/**
 * The `results` output: every result when it fits in GitHub's 1 MB per output; otherwise the
 * failures first, then the others in file order, as many as fit, in file order, and a warning that
 * points to `report-file` (which always holds them all).
 */
export function resultsOutput(results: readonly CheckResult[], reportFile: string, budget = MAX_RESULTS_OUTPUT_BYTES): { json: string; dropped: number; warning: string } {
  const all = toJsonResults(results);
  const json = JSON.stringify(all);
  if (Buffer.byteLength(json) <= budget) return { json, dropped: 0, warning: '' };
  const sizes = all.map((r) => Buffer.byteLength(JSON.stringify(r)) + 1);
  const order = results.map((_, i) => i).sort((a, b) => Number(results[b]!.status === 'failed') - Number(results[a]!.status === 'failed') || a - b);
  const keep = new Set<number>();
  let used = 2;
  for (const i of order) {
    if (used + sizes[i]! > budget) continue;
    keep.add(i);
    used += sizes[i]!;
  }
  const dropped = all.length - keep.size;
  const where = reportFile ? `the ${Input.ReportFile} file ${reportFile} holds them all` : `set the ${Input.ReportFile} input to get them all in a file`;
  return {
    json: JSON.stringify(all.filter((_, i) => keep.has(i))),
    dropped,
    warning: `the ${Output.Results} output holds ${keep.size} of ${all.length} results (failures first): GitHub limits an output to 1 MB; ${where}`,
  };
}

/** The services input's checks, its containers' secrets masked before anything is logged. */
async function servicesFromInput(text: string): ReturnType<typeof servicesConfig> {
  if (text.trim() === '') return { env: {}, secrets: [], notes: [] };
  try {
    const found = await servicesConfig(text);
    for (const s of found.secrets) for (const f of secretForms(s)) core.setSecret(f);
    return found;
  } catch (err) {
    if (err instanceof ServicesInputError) throw new InputError(err.message);
    throw err;
  }
}
