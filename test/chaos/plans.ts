/**
 * `npm run chaos:plans -- FIRST [COUNT] [PROFILE]`: what episodes would do, without running
 * them: per seed, the replicas, the groups' item counts per namespace and the fault schedule.
 */
import { describeFaults, planEpisode } from './plan.ts';
import { PROFILES, type ProfileName } from './profiles.ts';

const [first = '1', count = '20', profile = 'short'] = process.argv.slice(2);
if (!(profile in PROFILES)) throw new Error(`profile ${profile}: use short or production`);
for (let seed = Number(first); seed < Number(first) + Number(count); seed++) {
  const plan = planEpisode(seed, PROFILES[profile as ProfileName]);
  const items = plan.namespaces.map((n) => n.groups.map((g) => g.items.length).join('+')).join(' | ');
  console.log(`${String(seed)}: ${String(plan.replicas)} replica(s); items ${items}; ${describeFaults(plan)}`);
}
