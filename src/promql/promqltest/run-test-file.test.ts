import { describe, expect, it } from "vitest";
import { runPromqlTest } from "./run-test-file.js";

const LOAD = `
load 5m
  up{job="a"} 0+1x10
  up{job="b"} 5x10
`;

async function counts(text: string) {
  const r = await runPromqlTest(LOAD + text);
  return { passed: r.passed, failed: r.failed, skipped: r.skipped, failures: r.failures };
}

describe("promqltest runner", () => {
  it("passes an eval whose expected series and values match", async () => {
    const r = await counts(`
eval instant at 10m up
  up{job="a"} 2
  up{job="b"} 5x10
`);
    expect(r).toMatchObject({ passed: 1, failed: 0 });
  });

  it("fails an eval with a wrong value, a missing series or an extra series", async () => {
    const r = await counts(`
eval instant at 10m up
  up{job="a"} 3
  up{job="b"} 5x10

eval instant at 10m up
  up{job="a"} 2

eval instant at 10m up
  up{job="a"} 2
  up{job="b"} 5x10
  up{job="c"} 5
`);
    expect(r).toMatchObject({ passed: 0, failed: 3 });
  });

  it("checks the order only for eval_ordered", async () => {
    const r = await counts(`
eval_ordered instant at 10m sort_desc(up)
  up{job="b"} 5x10
  up{job="a"} 2

eval_ordered instant at 10m sort(up)
  up{job="b"} 5x10
  up{job="a"} 2
`);
    expect(r).toMatchObject({ passed: 1, failed: 1 });
  });

  it("checks range results point by point, with _ for missing steps", async () => {
    const r = await counts(`
eval range from 0 to 10m step 5m up{job="a"} > 0
  up{job="a"} _ 1 2

eval range from 0 to 10m step 5m up{job="a"} > 0
  up{job="a"} 0 1 2
`);
    expect(r).toMatchObject({ passed: 1, failed: 1 });
  });

  it("requires eval_fail to fail, with the expected message when given", async () => {
    const r = await counts(`
eval_fail instant at 10m up
  
eval_fail instant at 0m label_join(up, "job", "", "nothing")
  expected_fail_message vector cannot contain metrics with the same labelset

eval_fail instant at 0m label_join(up, "job", "", "nothing")
  expected_fail_message some other message
`);
    expect(r).toMatchObject({ passed: 1, failed: 2 });
  });

  it("requires a warning for eval_warn and none for a plain eval", async () => {
    const r = await counts(`
eval_warn instant at 10m quantile(2, up)
  {} +Inf

eval instant at 10m quantile(2, up)
  {} +Inf

eval instant at 10m quantile(NaN, up)
  expect warn msg: PromQL warning: quantile value should be between 0 and 1, got NaN
  {} NaN
`);
    expect(r).toMatchObject({ passed: 2, failed: 1 });
  });

  it("skips evals that select native histograms and never counts them as passed", async () => {
    const r = await runPromqlTest(`
load 5m
  h {{schema:0 sum:1 count:1}}x3
  f 1x3

eval instant at 5m h
  h {{schema:0 sum:1 count:1}}

eval instant at 5m f
  f 1x3
`);
    expect(r).toMatchObject({ passed: 1, failed: 0, skipped: 1 });
  });

  it("also runs an instant eval in range mode and with @ pinned one minute apart", async () => {
    const r = await counts(`
eval instant at 10m timestamp(up{job="a"})
  {job="a"} 600

eval instant at 10m up offset 5m
  up{job="a"} 1
  up{job="b"} 5x10
`);
    expect(r).toMatchObject({ passed: 2, failed: 0 });
  });

  it("reports a broken test file as one failure with its line", async () => {
    const r = await runPromqlTest("load 5m\n  up{job=} 1\n");
    expect(r.failed).toBe(1);
    expect(r.failures[0]?.line).toBe(2);
  });
});
