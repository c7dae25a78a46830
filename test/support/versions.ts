/** The component versions hack/tools.sh builds (hack/versions.env; the environment overrides). */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './control-plane.ts';

export interface ToolVersions {
  kubernetes: string;
  etcd: string;
  kwok: string;
}

export function toolVersions(): ToolVersions {
  const text = readFileSync(path.join(REPO_ROOT, 'hack', 'versions.env'), 'utf8');
  const pick = (name: string): string => {
    const fromEnv = process.env[name];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const match = new RegExp(`^${name}=\\$\\{${name}:-([^}]+)\\}`, 'm').exec(text);
    if (!match?.[1]) throw new Error(`hack/versions.env has no default for ${name}`);
    return match[1];
  };
  return { kubernetes: pick('K8S_VERSION'), etcd: pick('ETCD_VERSION'), kwok: pick('KWOK_VERSION') };
}
