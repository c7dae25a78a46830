/**
 * The version of a release, and the check that every place naming it agrees with package.json's,
 * the one source of truth (`make release` runs it before building anything, and again on the
 * image it built):
 *
 *   node hack/release-check.ts [--tag vX.Y.Z] [--image dist/oaat-operator-X.Y.Z.oci.tar]
 *
 * Checked: Chart.yaml's `version` and `appVersion`, the newest released section of CHANGELOG.md
 * (`## [X.Y.Z] - date`), the git tag `v<version>` when `--tag` gives one, and the image
 * archive's `org.opencontainers.image.version` label when `--image` gives one. Prints the version
 * on stdout and exits 0 when everything agrees; otherwise prints one line per mismatch on stderr
 * and exits 1.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { parse } from 'yaml';
import { CHART_DIR, REPO_ROOT } from './gen-manifests.ts';

/** package.json's version: the operator's, the chart's and the image's. */
export function packageVersion(root: string = REPO_ROOT): string {
  return (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version;
}

/** The version of the newest released section of a Keep a Changelog file (the first `## [x]` heading other than Unreleased), or undefined when there is none. */
export function newestChangelogVersion(changelog: string): string | undefined {
  for (const match of changelog.matchAll(/^## \[([^\]]+)\]/gm)) {
    if (match[1] !== 'Unreleased') return match[1];
  }
  return undefined;
}

/** What a release is checked against besides the files: its git tag and its image archive. */
export interface ReleaseInputs {
  /** The git tag being released, for example `v0.2.0`: must be `v` + the version. */
  tag?: string | undefined;
  /** An OCI image archive whose `org.opencontainers.image.version` label must be the version. */
  image?: string | undefined;
}

/**
 * Every disagreement with package.json's version under `root` (and with the tag and image, when
 * given), one sentence each naming the file, tag or archive and both versions; empty when all
 * agree. Reads files (the image through tar); throws when the image is not an OCI image-layout
 * archive.
 */
export function versionMismatches(root: string = REPO_ROOT, inputs: ReleaseInputs = {}): string[] {
  const version = packageVersion(root);
  const differs = (where: string, found: string | undefined) =>
    found === version ? [] : [`${where} is ${found ?? 'missing'}, package.json's version is ${version}`];
  const chart = parse(readFileSync(path.join(root, CHART_DIR, 'Chart.yaml'), 'utf8')) as { version?: unknown; appVersion?: unknown };
  const text = (value: unknown) => (typeof value === 'string' || typeof value === 'number' ? String(value) : undefined);
  return [
    ...differs(`${CHART_DIR}/Chart.yaml version`, text(chart.version)),
    ...differs(`${CHART_DIR}/Chart.yaml appVersion`, text(chart.appVersion)),
    ...differs('the newest released section of CHANGELOG.md', newestChangelogVersion(readFileSync(path.join(root, 'CHANGELOG.md'), 'utf8'))),
    ...(inputs.tag === undefined || inputs.tag === `v${version}` ? [] : [`the git tag ${inputs.tag} is not v${version} (package.json's version)`]),
    ...(inputs.image === undefined ? [] : differs(`the version label of the image ${inputs.image}`, imageArchiveVersion(inputs.image))),
  ];
}

/**
 * The `org.opencontainers.image.version` label of the one image in an OCI image-layout tar
 * archive (index.json → manifest → config), or undefined when the image has no such label.
 * Throws naming the archive when it is not such an archive.
 */
export function imageArchiveVersion(archive: string): string | undefined {
  const entry = (name: string): unknown => {
    try {
      return JSON.parse(execFileSync('tar', ['-xOf', archive, name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 }));
    } catch (error) {
      const reason = (error as { stderr?: string }).stderr?.trim().split('\n')[0] ?? (error as Error).message;
      throw new Error(`${archive}: cannot read ${name} as JSON (${reason})`, { cause: error });
    }
  };
  const blob = (digest: string) => entry(`blobs/${digest.replace(':', '/')}`);
  const { manifests } = entry('index.json') as { manifests?: { digest: string }[] };
  const [only] = manifests ?? [];
  if (only === undefined || manifests?.length !== 1) throw new Error(`${archive}: index.json lists ${String(manifests?.length ?? 0)} images, expected one`);
  const manifest = blob(only.digest) as { config?: { digest: string } };
  if (manifest.config === undefined) throw new Error(`${archive}: the manifest ${only.digest} has no config (an index of several platforms?)`);
  const config = blob(manifest.config.digest) as { config?: { Labels?: Record<string, string> } };
  return config.config?.Labels?.['org.opencontainers.image.version'];
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { tag: { type: 'string' }, image: { type: 'string' } } });
  let mismatches: string[];
  try {
    mismatches = versionMismatches(REPO_ROOT, values);
  } catch (error) {
    mismatches = [(error as Error).message];
  }
  if (mismatches.length > 0) {
    for (const mismatch of mismatches) console.error(`release-check: ${mismatch}`);
    process.exit(1);
  }
  console.log(packageVersion());
}
