/**
 * The action: the only module that talks to @actions/core. It reads the inputs, gathers the
 * config, masks every secret before anything is logged, runs the checks and writes the log,
 * job summary, annotations and outputs, each through the same redaction.
 */
import * as core from '@actions/core';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DEFAULT_CONNECT_TIMEOUT_S, Input, MAX_TIMEOUT_S, Output } from '../constants.js';
import { allSecrets, ConfigError, formatIssue, gatherConfig, type ConfigIssue } from '../config/index.js';
import { secretForms } from '../secrets/index.js';
import { loadCaPath } from '../net/tls.js';
import { configAnnotations, failureAnnotations, type Annotation } from '../report/annotations.js';
import { renderJson, toJsonResults } from '../report/json.js';
import { Redactor } from '../secrets/index.js';
import { escapeHtml, renderSummary } from '../report/summary.js';
import { textLine, verdict } from '../report/text.js';
import { isWarning, summarize } from '../runner/result.js';
import { runChecks } from '../runner/run.js';
import { cancellation } from '../process.js';
import { splitList } from '../runner/select.js';

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

function annotate(a: Annotation, redactor: Redactor): void {
  const props: core.AnnotationProperties = { title: redactor.redact(a.title) };
  if (a.file) {
    props.file = a.file;
    if (a.startLine !== undefined) props.startLine = a.startLine;
    if (a.startColumn !== undefined) props.startColumn = a.startColumn;
  }
  const message = redactor.redact(a.message);
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

export async function run(): Promise<void> {
  let redactor = new Redactor();
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
    if (!paths.length && inline.trim() === '') {
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
      gathered = await gatherConfig({ paths, base: workspace, inline });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      // Mask what can be masked even in a broken config: nothing was parsed, so only annotate.
      for (const a of configAnnotations(err.issues)) annotate(a, redactor);
      const errors = err.issues.filter((i) => i.severity === 'error');
      if (writeJobSummary) await writeSummary(configErrorSummary(errors, redactor));
      core.setFailed(redactor.redact(`invalid conn-check config (${errors.length} problem${errors.length === 1 ? '' : 's'}):\n${errors.map(formatIssue).join('\n')}`));
      return;
    }

    const secrets = allSecrets(gathered.checks);
    for (const s of secrets) for (const f of secretForms(s)) core.setSecret(f);
    redactor = new Redactor(secrets);
    for (const a of configAnnotations(gathered.warnings)) annotate(a, redactor);

    if (validateOnly) {
      core.info(`The config is valid: ${gathered.checks.length} check${gathered.checks.length === 1 ? '' : 's'}.`);
      return;
    }
    core.info(`Running ${gathered.checks.length} check${gathered.checks.length === 1 ? '' : 's'}${dryRun ? ' (dry run)' : ''}...`);
    const outcome = await runChecks(gathered.checks, {
      connectTimeoutS,
      maxTimeoutS,
      waitS,
      concurrency,
      extraCa,
      selection: { includeTags, excludeTags, patterns },
      dryRun,
      signal: cancel.signal,
      onResult: (r) => core.info(redactor.redact(textLine(r, { durations: true }))),
    });
    const results = redactor.redactDeep(outcome.results);
    const s = summarize(results, outcome.durationMs);
    core.info(redactor.redact(verdict(results, outcome.durationMs)));

    core.setOutput(Output.Total, s.total);
    core.setOutput(Output.Passed, s.passed);
    core.setOutput(Output.Failed, s.failed);
    core.setOutput(Output.Warnings, s.warnings);
    core.setOutput(Output.Skipped, s.skipped);
    const failedNames = results.filter((r) => r.status === 'failed' && !isWarning(r)).map((r) => r.name);
    core.setOutput(Output.FailedChecks, failedNames.join('\n'));
    core.setOutput(Output.Results, redactor.redact(JSON.stringify(toJsonResults(results))));
    for (const a of failureAnnotations(results)) annotate(a, redactor);
    if (writeJobSummary) await writeSummary(redactor.redact(renderSummary(results, outcome.durationMs)));
    if (reportFile) {
      const path = resolve(workspace, reportFile);
      try {
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, redactor.redact(renderJson(results)));
        core.info(`Results written to ${reportFile}.`);
      } catch (err) {
        core.warning(`could not write ${Input.ReportFile} ${reportFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
    }

    if (s.failed && failOnError) {
      const shown = failedNames.slice(0, 20).join(', ') + (failedNames.length > 20 ? `, and ${failedNames.length - 20} more` : '');
      core.setFailed(redactor.redact(`${s.failed} of ${s.total - s.skipped} checks failed: ${shown}`));
    } else if (s.failed) {
      core.warning(redactor.redact(`${s.failed} checks failed (fail-on-error is false): ${failedNames.join(', ')}`));
    }
    if (s.warnings) core.info(`${s.warnings} check${s.warnings === 1 ? '' : 's'} with severity warning failed; they do not fail the step.`);
  } catch (err) {
    if (err instanceof InputError) core.setFailed(redactor.redact(err.message));
    else core.setFailed(redactor.redact(`conn-check failed unexpectedly: ${(err as Error)?.stack ?? String(err)}`));
  } finally {
    cancel.dispose();
  }
}

function configErrorSummary(errors: readonly ConfigIssue[], redactor: Redactor): string {
  const items = errors
    .slice(0, 200)
    .map((i) => `<li><code>${escapeHtml(redactor.redact(formatIssue(i)))}</code></li>`)
    .join('\n');
  return `<h2>conn-check</h2>\n<p><b>The config is invalid: ${errors.length} problem${errors.length === 1 ? '' : 's'}</b></p>\n<ul>\n${items}\n</ul>\n`;
}
