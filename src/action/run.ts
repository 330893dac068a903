/**
 * The action: the only module that talks to @actions/core. It reads the inputs, gathers the
 * config, masks every secret before anything is logged, runs the checks and writes the log,
 * job summary, annotations and outputs, each through the same redaction.
 */
import * as core from '@actions/core';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Input, MAX_RESULTS_OUTPUT_BYTES, Output } from '../core/constants.js';
import { readSettings, runApp, SettingError, type AppOutcome, type ConfigInput } from '../app.js';
import { formatIssue } from '../config/index.js';
import { MIN_MASK_LENGTH, secretForms } from '../secrets/index.js';
import { servicesConfig, ServicesInputError } from './services.js';
import { configAnnotations, failureAnnotations, type Annotation } from '../report/annotations.js';
import { renderJson, toJsonResults } from '../report/json.js';
import { OutputGate } from '../report/gate.js';
import { renderConfigErrors, renderSummary } from '../report/summary.js';
import { textLine, verdict } from '../report/text.js';
import { isWarning, type CheckResult } from '../runner/result.js';
import { cancellation } from '../process.js';
import { splitList } from '../runner/select.js';

/** How the messages name a setting. */
const input = (name: string) => `input ${name}`;

/** An input as the app reads it: absent when empty. */
const optional = (name: string): string | undefined => core.getInput(name) || undefined;

function boolInput(name: string): boolean {
  try {
    return core.getBooleanInput(name);
  } catch {
    throw new SettingError(`${input(name)}: expected true or false, got ${JSON.stringify(core.getInput(name))}`);
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
    const settings = await readSettings(
      {
        'connect-timeout': optional(Input.ConnectTimeout),
        'max-timeout': optional(Input.MaxTimeout),
        wait: optional(Input.Wait),
        concurrency: optional(Input.Concurrency),
        'tls-certs-path': optional(Input.TlsCertsPath),
        'include-tags': splitList(core.getInput(Input.IncludeTags)),
        'exclude-tags': splitList(core.getInput(Input.ExcludeTags)),
        patterns: splitList(core.getInput(Input.Patterns)),
      },
      input,
    );
    const reportFile = core.getInput(Input.ReportFile);
    const failOnError = boolInput(Input.FailOnError);
    const writeJobSummary = boolInput(Input.Summary);
    const config: ConfigInput = {
      paths: core.getMultilineInput(Input.Config),
      inline: core.getInput(Input.Checks, { trimWhitespace: false }),
      base: workspace,
      env: process.env,
      envFiles: core.getMultilineInput(Input.EnvFile),
      fromEnv: boolInput(Input.FromEnv),
      generated: await servicesFromInput(core.getInput(Input.Services)),
    };
    if (!config.paths!.length && !config.inline!.trim() && !config.fromEnv && !config.generated) {
      throw new SettingError(
        `no checks given: set the "${Input.Config}" input to the path of a conn-check YAML file (for example "${Input.Config}: .github/conn-check.yaml"), or "${Input.Checks}" to the checks as inline YAML`,
      );
    }
    const dryRun = boolInput(Input.DryRun);
    const outcome = await runApp(
      { settings, config, mode: boolInput(Input.ValidateOnly) ? 'validate' : 'run', dryRun, gate, name: input, signal: cancel.signal },
      {
        secrets: setSecrets,
        note: (line) => info(gate, line),
        warnings: (issues) => configAnnotations(issues).forEach((a) => annotate(a, gate)),
        selectionWarning: (line) => core.warning(line),
        beforeRun: (n) => core.info(`Running ${n} check${n === 1 ? '' : 's'}${dryRun ? ' (dry run)' : ''}...`),
        onResult: (r) => info(gate, textLine(r, { durations: true })),
      },
    );
    await report(outcome, gate, { workspace, reportFile, failOnError, writeJobSummary });
  } catch (err) {
    if (err instanceof SettingError) core.setFailed(gate.text(err.message));
    else core.setFailed(`conn-check failed unexpectedly: ${gate.lines((err as Error)?.stack ?? String(err))}`);
  } finally {
    cancel.dispose();
  }
}

/** Writes what the run came to: log, outputs, annotations, job summary, report file, the step's status. */
async function report(outcome: AppOutcome, gate: OutputGate, o: { workspace: string; reportFile: string; failOnError: boolean; writeJobSummary: boolean }): Promise<void> {
  switch (outcome.kind) {
    case 'invalid': {
      const errors = outcome.errors;
      for (const a of configAnnotations(outcome.issues)) annotate(a, gate);
      if (o.writeJobSummary) await writeSummary(renderConfigErrors(errors));
      const shown = errors.slice(0, 50).map(formatIssue);
      if (errors.length > shown.length) shown.push(`... and ${errors.length - shown.length} more (see the annotations)`);
      core.setFailed(`invalid conn-check config (${errors.length} problem${errors.length === 1 ? '' : 's'}):\n${shown.join('\n')}`);
      return;
    }
    case 'valid':
      core.info(`The config is valid: ${outcome.checks} check${outcome.checks === 1 ? '' : 's'}.`);
      return;
    case 'egress':
      throw new Error('the action has no egress mode');
    case 'nothing-selected':
      core.setFailed(outcome.error);
      return;
  }
  const { results, durationMs, summary: s } = outcome;
  info(gate, verdict(results, durationMs));
  core.setOutput(Output.Total, s.total);
  core.setOutput(Output.Passed, s.passed);
  core.setOutput(Output.Failed, s.failed);
  core.setOutput(Output.Warnings, s.warnings);
  core.setOutput(Output.Skipped, s.skipped);
  const failedNames = results.filter((r) => r.status === 'failed' && !isWarning(r)).map((r) => r.name);
  // (data, but a workflow may echo it: guarded like the log)
  core.setOutput(Output.FailedChecks, gate.stream(capLines(failedNames, MAX_RESULTS_OUTPUT_BYTES)));
  const output = resultsOutput(results, o.reportFile);
  core.setOutput(Output.Results, output.json);
  if (output.dropped) core.warning(output.warning);
  for (const a of failureAnnotations(results)) annotate(a, gate);
  if (o.writeJobSummary) await writeSummary(renderSummary(results, durationMs));
  if (o.reportFile) {
    const path = resolve(o.workspace, o.reportFile);
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, renderJson(results));
      info(gate, `Results written to ${gate.text(o.reportFile)}.`);
    } catch (err) {
      core.warning(`could not write ${Input.ReportFile} ${o.reportFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  if (s.failed) {
    const shown = failedNames.slice(0, 20).join(', ') + (failedNames.length > 20 ? `, and ${failedNames.length - 20} more` : '');
    if (o.failOnError) core.setFailed(`${s.failed} of ${s.total - s.skipped} checks failed: ${shown}`);
    else core.warning(`${s.failed} checks failed (fail-on-error is false): ${shown}`);
  }
  if (s.warnings) core.info(`${s.warnings} check${s.warnings === 1 ? '' : 's'} with severity warning failed; they do not fail the step.`);
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

/** The services input's checks, its containers' secrets masked before anything is logged; none for an empty input. */
async function servicesFromInput(text: string): Promise<ConfigInput['generated']> {
  if (text.trim() === '') return undefined;
  try {
    const found = await servicesConfig(text);
    setSecrets(found.secrets);
    return found;
  } catch (err) {
    if (err instanceof ServicesInputError) throw new SettingError(err.message);
    throw err;
  }
}
