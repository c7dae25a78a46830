import { ConfigError, loadConfig, parseGoDuration } from '../../src/config.ts';

describe('parseGoDuration', () => {
  it.each([
    ['250ms', 250],
    ['15s', 15_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1.5s', 1_500],
    [' 2m ', 120_000],
  ])('parses %j as %d ms', (text, ms) => {
    expect(parseGoDuration(text)).toBe(ms);
  });

  it.each(['', '15', '-5s', '1d', 's', '1 m', '5m garbage'])('rejects %j and quotes it', (text) => {
    expect(() => parseGoDuration(text)).toThrow(`"${text}" is not a duration`);
  });
});

describe('loadConfig', () => {
  it('has production defaults when nothing is set', () => {
    expect(loadConfig({})).toEqual({
      namespaces: [],
      workers: 256,
      requeueCapMs: 60_000,
      statusItemsLimit: 2000,
      requestTimeoutMs: 30_000,
      serverRequestTimeoutMs: 60_000,
      retryFloorMs: 60_000,
      createGraceMs: 60_000,
      stuckAfterMs: 300_000,
      successfulPodsHistoryLimit: 1,
      failedPodsHistoryLimit: 3,
      podRetentionMs: 43_200_000,
      podRestrictions: new Set(),
      configMapItems: true,
      backoffBaseMs: 5,
      backoffCapMs: 60_000,
      leaderElection: {
        enabled: true,
        namespace: 'default',
        name: 'oaat-operator',
        leaseDurationMs: 15_000,
        renewDeadlineMs: 10_000,
        retryPeriodMs: 2_000,
      },
      clientQps: 0,
      clientBurst: 200,
      backgroundQps: 100,
      backgroundBurst: 200,
      eventQps: 50,
      eventBurst: 200,
      shutdownTimeoutMs: 25_000,
      httpAddress: ':8080',
      logLevel: 'info',
      logFormat: 'auto',
      itemMetrics: 'auto',
    });
  });

  it('reads every timing knob tests shrink', () => {
    const config = loadConfig({
      OAAT_REQUEUE_CAP: '2s',
      OAAT_RETRY_FLOOR: '500ms',
      OAAT_CREATE_GRACE: '3s',
      OAAT_REQUEST_TIMEOUT: '1s',
      OAAT_SERVER_REQUEST_TIMEOUT: '2s',
      OAAT_LEASE_DURATION: '3s',
      OAAT_RENEW_DEADLINE: '2s',
      OAAT_RETRY_PERIOD: '200ms',
      OAAT_BACKOFF_CAP: '1s',
    });
    expect(config.requeueCapMs).toBe(2_000);
    expect(config.retryFloorMs).toBe(500);
    expect(config.createGraceMs).toBe(3_000);
    expect(config.requestTimeoutMs).toBe(1_000);
    expect(config.serverRequestTimeoutMs).toBe(2_000);
    expect(config.backoffCapMs).toBe(1_000);
    expect(config.leaderElection).toMatchObject({ leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 });
  });

  it('refuses a request timeout that leaves no time to create a run\'s pod within the create grace', () => {
    expect(() => loadConfig({ OAAT_CREATE_GRACE: '10s' })).toThrow('OAAT_REQUEST_TIMEOUT must be shorter than OAAT_CREATE_GRACE');
  });

  it('reads namespaces, workers, switches and choices', () => {
    const config = loadConfig({
      OAAT_WATCH_NAMESPACES: ' a, b ,,c',
      OAAT_WORKERS: '8',
      OAAT_LEADER_ELECT: 'false',
      OAAT_LOG_LEVEL: 'debug',
      OAAT_LOG_FORMAT: 'json',
      OAAT_ITEM_METRICS: 'off',
    });
    expect(config.namespaces).toEqual(['a', 'b', 'c']);
    expect(config.workers).toBe(8);
    expect(config.leaderElection.enabled).toBe(false);
    expect(config.logLevel).toBe('debug');
    expect(config.logFormat).toBe('json');
    expect(config.itemMetrics).toBe('off');
  });

  it('reads the pod restrictions: a list of them, or all', () => {
    expect([...loadConfig({ OAAT_POD_RESTRICTIONS: 'hostPath, serviceAccount' }).podRestrictions].sort()).toEqual(['hostPath', 'serviceAccount']);
    expect([...loadConfig({ OAAT_POD_RESTRICTIONS: 'all' }).podRestrictions].sort()).toEqual(['hostNamespaces', 'hostPath', 'serviceAccount']);
  });

  it.each([
    [{ OAAT_WORKERS: '0' }, 'OAAT_WORKERS="0": expected an integer >= 1'],
    [{ OAAT_WORKERS: '2.5' }, 'OAAT_WORKERS="2.5": expected an integer >= 1'],
    [{ OAAT_CLIENT_QPS: '-1' }, 'OAAT_CLIENT_QPS="-1": expected an integer >= 0'],
    [{ OAAT_BACKGROUND_QPS: '0' }, 'OAAT_BACKGROUND_QPS="0": expected an integer >= 1'],
    [{ OAAT_REQUEUE_CAP: '60' }, 'OAAT_REQUEUE_CAP: "60" is not a duration'],
    [{ OAAT_RETRY_FLOOR: '0s' }, 'OAAT_RETRY_FLOOR="0s": must be longer than zero'],
    [{ OAAT_LEADER_ELECT: 'maybe' }, 'OAAT_LEADER_ELECT="maybe": expected true or false'],
    [{ OAAT_LOG_LEVEL: 'loud' }, 'OAAT_LOG_LEVEL="loud": expected one of error, warn, info, debug'],
    [{ OAAT_RENEW_DEADLINE: '20s' }, 'leader election needs OAAT_LEASE_DURATION > OAAT_RENEW_DEADLINE > OAAT_RETRY_PERIOD'],
    [{ OAAT_BACKOFF_BASE: '2m' }, 'OAAT_BACKOFF_BASE must not exceed OAAT_BACKOFF_CAP'],
    [{ OAAT_POD_RESTRICTIONS: 'hostPath,privileged' }, 'OAAT_POD_RESTRICTIONS="hostPath,privileged": "privileged" not one of serviceAccount, hostNamespaces, hostPath (or all alone)'],
    [{ OAAT_POD_RESTRICTIONS: 'all,hostPath' }, '"all" not one of'],
  ])('rejects %j with a message naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('accepts inconsistent lease times when leader election is off', () => {
    expect(loadConfig({ OAAT_LEADER_ELECT: 'false', OAAT_RENEW_DEADLINE: '1h' }).leaderElection.renewDeadlineMs).toBe(3_600_000);
  });
});
