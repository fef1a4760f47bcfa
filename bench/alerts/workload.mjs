// The workload of bench/alerts: the routing tree both systems run and the storm's alerts. Shared by run.mjs
// and pipeline.mjs, so that the in-process measurement routes what the side-by-side one posts.

// The routing tree, the same for both systems. Storm alerts group by (alertname, cluster) at the root and in
// the two child routes; latency alerts go to their own route, which also groups by bench_id, so every
// latency alert is alone in a new group and its first notification waits exactly group_wait.

export const RECEIVERS = ["default", "critical", "team", "latency"];

export function alertmanagerYaml(sinkUrl, groupWait, groupInterval) {
  const receivers = RECEIVERS.map(
    (name) =>
      `  - name: ${name}\n    webhook_configs:\n      - url: "${sinkUrl}/hook/${name}"\n        send_resolved: false\n`,
  ).join("");
  return `route:
  receiver: default
  group_by: [alertname, cluster]
  group_wait: ${groupWait}
  group_interval: ${groupInterval}
  repeat_interval: 4h
  routes:
    - receiver: latency
      matchers: ['phase="latency"']
      group_by: [alertname, cluster, bench_id]
    - receiver: critical
      matchers: ['severity="critical"']
      continue: true
    - receiver: team
      matchers: ['team=~"db|storage"']
receivers:
${receivers}`;
}

export const SEVERITIES = ["critical", "warning", "info"];
export const TEAMS = ["db", "storage", "web", "api", "edge"];

export function stormAlert(i, runTag) {
  return {
    labels: {
      alertname: `Storm${String(i % 40).padStart(2, "0")}`,
      cluster: `c${Math.floor(i / 40) % 10}`,
      instance: `host-${i}.${runTag}:9100`,
      severity: SEVERITIES[i % SEVERITIES.length],
      team: TEAMS[Math.floor(i / 7) % TEAMS.length],
      job: "node",
      bench_id: `s${i}`,
    },
    annotations: { summary: `storm alert ${i}`, description: `instance host-${i} is in trouble` },
    generatorURL: `http://prometheus.invalid/graph?g0.expr=up%3D%3D0&i=${i}`,
  };
}
