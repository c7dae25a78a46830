/**
 * `make release` without the image build: hack/release-check.ts finds every place whose version
 * disagrees with package.json's (on fixture trees, and none in the repository), hack/release.sh
 * stops at a mismatch before building anything, and `hack/release.sh assemble` packages the chart
 * with the given files and a SHA256SUMS that `sha256sum -c` verifies.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { CHART_DIR, REPO_ROOT } from '../../hack/gen-manifests.ts';
import { newestChangelogVersion, packageVersion, versionMismatches } from '../../hack/release-check.ts';
import { toolPath } from '../../hack/tool-path.ts';

const VERSION = packageVersion();
const RELEASE_SH = path.join(REPO_ROOT, 'hack', 'release.sh');

let scratch: string;
beforeEach(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'oaat-release-test-'));
});
afterEach(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** The three files release-check reads, each with the version given (package.json's is 1.2.3 unless set). */
function fixtureTree(versions: { pkg?: string; chart?: string; app?: string; changelog?: string } = {}): string {
  const root = path.join(scratch, 'tree');
  mkdirSync(path.join(root, CHART_DIR), { recursive: true });
  writeFileSync(path.join(root, 'package.json'), JSON.stringify({ name: 'x', version: versions.pkg ?? '1.2.3' }));
  writeFileSync(path.join(root, CHART_DIR, 'Chart.yaml'), `apiVersion: v2\nname: x\nversion: ${versions.chart ?? '1.2.3'}\nappVersion: "${versions.app ?? '1.2.3'}"\n`);
  writeFileSync(path.join(root, 'CHANGELOG.md'), `# Changelog\n\n## [Unreleased]\n\n### Added\n- more\n\n## [${versions.changelog ?? '1.2.3'}] - 2026-11-30\n\n## [0.0.1] - 2026-01-01\n`);
  return root;
}

/** An OCI image-layout tar archive of one image whose config has the labels given. */
function imageArchive(labels: Record<string, string>): string {
  const layout = path.join(scratch, 'layout');
  mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  const blob = (object: unknown) => {
    const text = JSON.stringify(object);
    const hex = createHash('sha256').update(text).digest('hex');
    writeFileSync(path.join(layout, 'blobs', 'sha256', hex), text);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(text) };
  };
  const config = blob({ architecture: 'amd64', os: 'linux', config: { Labels: labels }, rootfs: { type: 'layers', diff_ids: [] } });
  const manifest = blob({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: [] });
  writeFileSync(path.join(layout, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(path.join(layout, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest }] }));
  const archive = path.join(scratch, 'image.oci.tar');
  execFileSync('tar', ['-cf', archive, '-C', layout, 'oci-layout', 'index.json', 'blobs']);
  return archive;
}

describe('hack/release-check.ts', () => {
  it('finds nothing to disagree about in the repository (one version: package.json\'s)', () => {
    expect(versionMismatches()).toEqual([]);
  });

  it('accepts a tree whose files, tag and image all say package.json\'s version', () => {
    expect(versionMismatches(fixtureTree(), { tag: 'v1.2.3', image: imageArchive({ 'org.opencontainers.image.version': '1.2.3' }) })).toEqual([]);
  });

  it('names every file that disagrees, with both versions', () => {
    expect(versionMismatches(fixtureTree({ chart: '1.2.2', app: '1.2.4', changelog: '1.2.2' }))).toEqual([
      `${CHART_DIR}/Chart.yaml version is 1.2.2, package.json's version is 1.2.3`,
      `${CHART_DIR}/Chart.yaml appVersion is 1.2.4, package.json's version is 1.2.3`,
      "the newest released section of CHANGELOG.md is 1.2.2, package.json's version is 1.2.3",
    ]);
  });

  it('names a tag that is not v + the version, and a tag without the v', () => {
    expect(versionMismatches(fixtureTree(), { tag: 'v1.2.4' })).toEqual(["the git tag v1.2.4 is not v1.2.3 (package.json's version)"]);
    expect(versionMismatches(fixtureTree(), { tag: '1.2.3' })).toEqual(["the git tag 1.2.3 is not v1.2.3 (package.json's version)"]);
  });

  it('names an image whose version label differs or is missing', () => {
    const other = imageArchive({ 'org.opencontainers.image.version': '1.2.2' });
    expect(versionMismatches(fixtureTree(), { image: other })).toEqual([`the version label of the image ${other} is 1.2.2, package.json's version is 1.2.3`]);
    const unlabelled = imageArchive({ 'org.opencontainers.image.title': 'x' });
    expect(versionMismatches(fixtureTree(), { image: unlabelled })).toEqual([`the version label of the image ${unlabelled} is missing, package.json's version is 1.2.3`]);
  });

  it('refuses a file that is not an OCI image archive, naming it', () => {
    const notAnArchive = path.join(scratch, 'not.tar');
    writeFileSync(notAnArchive, 'hello');
    expect(() => versionMismatches(fixtureTree(), { image: notAnArchive })).toThrow(`${notAnArchive}: cannot read index.json as JSON`);
  });

  it('takes the CHANGELOG\'s newest released section, skipping Unreleased', () => {
    expect(newestChangelogVersion('## [Unreleased]\n\n## [2.0.0] - 2027-01-01\n## [1.0.0] - 2026-01-01\n')).toBe('2.0.0');
    expect(newestChangelogVersion('## [Unreleased]\n- soon\n')).toBeUndefined();
  });
});

describe('hack/release.sh', () => {
  it('stops at a version mismatch before building anything, naming it', () => {
    const result = spawnSync(RELEASE_SH, ['--tag', 'v0.0.0-mismatch'], { encoding: 'utf8' });
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr.trim().split('\n') }).toEqual({
      status: 1,
      stdout: '',
      stderr: [`release-check: the git tag v0.0.0-mismatch is not v${VERSION} (package.json's version)`, 'release: the versions disagree (above); nothing was built'],
    });
  });

  it('assemble: the packaged chart of the version and the files given, with a SHA256SUMS that sha256sum -c verifies', () => {
    const image = path.join(scratch, `oaat-operator-${VERSION}.oci.tar`);
    writeFileSync(image, 'an image archive');
    const out = path.join(scratch, 'out');
    mkdirSync(out);
    writeFileSync(path.join(out, 'left-over'), 'from an earlier run');
    execFileSync(RELEASE_SH, ['assemble', out, image], { stdio: ['ignore', 'pipe', 'pipe'] });

    const chart = `oaat-operator-${VERSION}.tgz`;
    expect(readdirSync(out).sort()).toEqual(['SHA256SUMS', path.basename(image), chart].sort());
    const shown = parse(execFileSync(toolPath('helm'), ['show', 'chart', path.join(out, chart)], { encoding: 'utf8' })) as { version: string; appVersion: string };
    expect({ version: shown.version, appVersion: shown.appVersion }).toEqual({ version: VERSION, appVersion: VERSION });

    const check = () => spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: out, encoding: 'utf8' });
    expect(check()).toMatchObject({ status: 0, stdout: `${path.basename(image)}: OK\n${chart}: OK\n` });
    expect(readFileSync(path.join(out, 'SHA256SUMS'), 'utf8')).toMatch(new RegExp(`^${createHash('sha256').update('an image archive').digest('hex')}  ${path.basename(image)}\n`));
    appendFileSync(path.join(out, path.basename(image)), 'tampered');
    expect(check()).toMatchObject({ status: 1, stdout: `${path.basename(image)}: FAILED\n${chart}: OK\n` });
  });
});
