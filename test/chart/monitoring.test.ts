/**
 * The chart's monitoring objects, offline: the PrometheusRule and the Grafana dashboard
 * ConfigMap render only when enabled, every metric their expressions name is one the operator
 * registers (taken from the operator's own registry, built by the composition root), and
 * `promtool check rules` and `promtool test rules` (test/chart/fixtures/alerts.test.yaml: each
 * alert fires on the series it is for, and not on the others) pass on the rendered rules.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../../src/config.ts';
import { buildContainer, resolve, TOKENS } from '../../src/container.ts';
import { registerOaatControllers } from '../../src/controllers/registration.ts';
import { helmTemplate, REPO_ROOT } from '../../hack/gen-manifests.ts';

const FIXTURE = path.join(REPO_ROOT, 'test', 'chart', 'fixtures', 'alerts.test.yaml');

function tool(name: 'HELM' | 'PROMTOOL'): string {
  const found = process.env[name];
  if (found === undefined || found === '') throw new Error(`${name} is not set: the chart project global setup resolves it (run \`npm run test:chart\`)`);
  return found;
}

interface RuleGroup {
  name: string;
  rules: { alert: string; expr: string; labels: Record<string, string> }[];
}
interface Panel {
  title: string;
  targets: { expr: string }[];
}

const renderMonitoring = (...args: string[]) => helmTemplate(tool('HELM'), ['--set', 'metrics.prometheusRule.enabled=true', '--set', 'metrics.dashboard.enabled=true', ...args]);
const ruleGroups = (objects: ReturnType<typeof helmTemplate>): RuleGroup[] => {
  const rule = objects.find((o) => o.kind === 'PrometheusRule');
  if (rule === undefined) throw new Error('no PrometheusRule rendered');
  return (rule.spec as { groups: RuleGroup[] }).groups;
};
const dashboardPanels = (objects: ReturnType<typeof helmTemplate>): Panel[] => {
  const map = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
  const json = (map as { data?: Record<string, string> } | undefined)?.data?.['oaat-operator.json'];
  if (json === undefined) throw new Error('no dashboard ConfigMap rendered');
  return (JSON.parse(json) as { panels: Panel[] }).panels;
};

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: strings, ranges, label lists (with their `by`,
 * `on`, ...) and matchers are dropped, then
 * every identifier left that is neither a function (followed by `(`) nor a keyword is one.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    .replace(/\{[^}]*\}/g, '{}');
  const names = new Set<string>();
  for (const [, name, next] of stripped.matchAll(/(?<![\w$.])([a-zA-Z_:][\w:]*)\s*(\(?)/g)) {
    if (name !== undefined && next === '' && !PROMQL_WORDS.has(name.toLowerCase())) names.add(name);
  }
  return [...names];
}

/** Every series name the operator exports: its registry's metrics, with a histogram's and a summary's series, and Prometheus's own `up`. */
async function exportedNames(): Promise<Set<string>> {
  const container = buildContainer(loadConfig({}), { server: 'https://127.0.0.1:1', read: () => Promise.reject(new Error('never contacted')) }, registerOaatControllers);
  // The manager is built from every informer, controller and the leader elector: each registers its metrics.
  resolve(container, TOKENS.Manager);
  const names = new Set(['up']);
  for (const metric of await resolve(container, TOKENS.Registry).getMetricsAsJSON()) {
    names.add(metric.name);
    const suffixes = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] }[String(metric.type)] ?? [];
    for (const suffix of suffixes) names.add(`${metric.name}${suffix}`);
  }
  return names;
}

describe('metric names in expressions', () => {
  it('finds the selected metrics, not functions, keywords, labels or strings', () => {
    expect(metricNames('sum by (namespace, group) (rate(a_total{job="x", outcome=~"F|G"}[5m])) > 3 unless on (group) b == 1')).toEqual(['a_total', 'b']);
    expect(metricNames('absent(up{job="j"} == 1) or histogram_quantile(0.9, sum by (le) (rate(c_bucket[$__rate_interval])))')).toEqual(['up', 'c_bucket']);
    expect(metricNames('(time() - max(d)) > 3 * max(e)')).toEqual(['d', 'e']);
  });
});

describe('the PrometheusRule and the Grafana dashboard', () => {
  it('render only when enabled: the rule as monitoring.coreos.com/v1 with its labels, the dashboard in a ConfigMap labelled grafana_dashboard: "1"', () => {
    const plain = helmTemplate(tool('HELM'), []);
    expect(plain.filter((o) => o.kind === 'PrometheusRule' || o.metadata.labels?.grafana_dashboard !== undefined)).toEqual([]);
    const objects = renderMonitoring('--set', 'metrics.prometheusRule.labels.release=prom', '--set', 'metrics.dashboard.namespace=grafana', '--set', 'metrics.prometheusRule.alertLabels.team=ops');
    const rule = objects.find((o) => o.kind === 'PrometheusRule');
    expect(rule).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', metadata: { labels: { release: 'prom' } } });
    const alerts = ruleGroups(objects).flatMap((group) => group.rules);
    expect(alerts.map((a) => a.alert)).toEqual(['OaatItemOverdue', 'OaatGroupFailing', 'OaatGroupNoSuccess', 'OaatOperatorDown', 'OaatOperatorNoLeader', 'OaatReconcileErrors']);
    expect(alerts.every((a) => a.labels.team === 'ops')).toBe(true);
    expect(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1')?.metadata.namespace).toBe('grafana');
    expect(dashboardPanels(objects).map((panel) => panel.title)).toEqual(expect.arrayContaining([expect.stringMatching(/Runs a second/), expect.stringMatching(/Failed/), expect.stringMatching(/Runtime/), expect.stringMatching(/Overdue/), expect.stringMatching(/queue depth/i), expect.stringMatching(/Reconcile latency/)]));
  });

  it('have no operator-down alerts with no replicas', () => {
    const alerts = ruleGroups(renderMonitoring('--set', 'replicaCount=0')).flatMap((group) => group.rules.map((rule) => rule.alert));
    expect(alerts).not.toContain('OaatOperatorDown');
    expect(alerts).not.toContain('OaatOperatorNoLeader');
  });

  it('name only metrics the operator exports', async () => {
    const exported = await exportedNames();
    const objects = renderMonitoring();
    const used = [
      ...ruleGroups(objects).flatMap((group) => group.rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }))),
      ...dashboardPanels(objects).flatMap((panel) => panel.targets.map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr }))),
    ];
    expect(used.length).toBeGreaterThan(10);
    const unknown = used.flatMap(({ where, expr }) => metricNames(expr).filter((name) => !exported.has(name)).map((name) => `${where}: ${name}`));
    expect(unknown).toEqual([]);
    // The names the dashboard's variables read, too.
    expect(exported.has('oaat_build_info') && exported.has('oaat_group_running')).toBe(true);
  });

  it('pass promtool check rules and promtool test rules (fixtures/alerts.test.yaml)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'oaat-rules-'));
    try {
      writeFileSync(path.join(dir, 'rules.yaml'), stringify({ groups: ruleGroups(helmTemplate(tool('HELM'), ['--set', 'metrics.prometheusRule.enabled=true'])) }));
      copyFileSync(FIXTURE, path.join(dir, 'alerts.test.yaml'));
      for (const args of [['check', 'rules', 'rules.yaml'], ['test', 'rules', 'alerts.test.yaml']]) {
        const result = spawnSync(tool('PROMTOOL'), args, { cwd: dir, encoding: 'utf8' });
        if (result.error) throw result.error;
        if (result.status !== 0) throw new Error(`promtool ${args.join(' ')} failed (${String(result.status)}):\n${result.stdout}${result.stderr}`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
