// The Allure view: allure-vitest's results turned into one self-contained, offline HTML file
// by Allure 2's command line (resolved from Maven Central into the cache).
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { mavenBuild } from '../util/maven.js';
import { projectRoot, reportsDir } from '../util/paths.js';
import { step } from '../util/progress.js';

let allureCli: ReturnType<typeof mavenBuild> | undefined;

/**
 * Resolves Allure's command line (once per process). The conformance command starts this beside
 * the run, so a cold first run does not wait for it at the end.
 */
export function prepareAllureCli(): ReturnType<typeof mavenBuild> {
  allureCli ??= mavenBuild('allure-commandline', join(projectRoot, 'harness/reporting/allure'));
  return allureCli;
}

export async function buildAllureSingleFile(resultsDir = join(reportsDir, 'allure-results'), outDir = join(reportsDir, 'allure-report')): Promise<string> {
  if (!existsSync(resultsDir) || readdirSync(resultsDir).length === 0) throw new Error(`no Allure results in ${resultsDir}: run the conformance suite first`);
  const build = await prepareAllureCli();
  const home = readdirSync(build.libDir).find((d) => d.startsWith('allure-') && statSync(join(build.libDir, d)).isDirectory());
  if (!home) throw new Error(`allure-commandline was not unpacked into ${build.libDir}`);
  const bin = join(build.libDir, home, 'bin', 'allure');
  await step('allure: single-file HTML report', () => execa('sh', [bin, 'generate', '--single-file', '--clean', '-o', outDir, resultsDir], {
    env: { ...process.env, ALLURE_NO_ANALYTICS: '1' }, stdin: 'ignore', timeout: 5 * 60_000,
  }));
  const page = join(outDir, 'index.html');
  writeFileSync(page, stripAnalytics(readFileSync(page, 'utf8')));
  return page;
}

/**
 * Allure 2 writes a Google Analytics tag into every report, ALLURE_NO_ANALYTICS or not.
 * The report must make no network call, so the tag and its inline set-up are removed, and
 * any remaining external script or stylesheet is an error.
 */
export function stripAnalytics(html: string): string {
  const out = html
    .replace(/<script[^>]*src="https:\/\/www\.googletagmanager\.com[^"]*"[^>]*><\/script>\s*/g, '')
    .replace(/<script>\s*window\.dataLayer[\s\S]*?<\/script>\s*/g, '');
  const external = /<(?:script|link|img|iframe)[^>]+(?:src|href)="(https?:)?\/\/[^"]+"/i.exec(out);
  if (external) throw new Error(`the Allure report still loads an external resource: ${external[0].slice(0, 120)}`);
  return out;
}
