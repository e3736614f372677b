// The check test harness (helpers.ts runCheck) runs the real engine and fails a test on a breach of
// the check contract: shown here with deliberately broken checks.
import { describe, expect, it } from 'vitest';
import { defineCheck } from '../../src/engine/define-check.ts';
import type { Check } from '../../src/engine/types.ts';
import { openFixture, runCheck, runFor } from './helpers.ts';

const MESSAGES = {
  found: { template: 'Found {{what}} in {{where}}', severity: 'warning', hint: 'Look at {{where}}' },
  noted: { template: 'Noted', severity: 'info', hint: 'Nothing to do' },
} as const;

/** A mesh-scope check whose run reports what `report` reports, with the messages above. */
function brokenCheck(report: (ctx: { report(finding: unknown): void }) => void): Check {
  return defineCheck({
    id: 'control-plane/harness-probe',
    category: 'control-plane',
    scope: 'mesh',
    needs: [],
    meta: { description: 'harness probe', docs: 'https://istio.io/', messages: MESSAGES },
    async run(ctx) {
      report(ctx as { report(finding: unknown): void });
    },
  });
}

const clusters = async () => (await openFixture('multi-primary-healthy')).clusters;

describe('check test harness', () => {
  it('gives what the user gets: effective severity, rendered message and hint, the data reported', async () => {
    const check = brokenCheck((ctx) => ctx.report({ messageId: 'found', data: { what: 'x', where: 'y' } }));
    const { runs } = await runCheck(check, await clusters());
    expect(runFor(runs, '*')).toMatchObject({ outcome: 'warn', findings: [{ checkId: check.id, messageId: 'found', cluster: '*', severity: 'warning', message: 'Found x in y', data: { what: 'x', where: 'y' } }] });
    expect(runFor(runs, '*').findings[0].hint).toContain('y');
  });

  it('applies --severity overrides per check and per messageId', async () => {
    const check = brokenCheck((ctx) => ctx.report({ messageId: 'found', data: { what: 'x', where: 'y' } }));
    expect((await runCheck(check, await clusters(), { severityOverrides: { [check.id]: 'error' } })).runs[0]).toMatchObject({ outcome: 'fail', findings: [{ severity: 'error' }] });
    expect((await runCheck(check, await clusters(), { severityOverrides: { [`${check.id}/found`]: 'info' } })).runs[0]).toMatchObject({ outcome: 'pass', findings: [{ severity: 'info' }] });
  });

  it('fails on a placeholder of the message or hint the data leaves unfilled', async () => {
    const check = brokenCheck((ctx) => ctx.report({ messageId: 'found', data: { what: 'x' } }));
    await expect(runCheck(check, await clusters())).rejects.toThrow('control-plane/harness-probe on *: found leaves {{where}} unfilled');
  });

  it('fails on a messageId the check does not declare (the engine alone would make it an error result)', async () => {
    const check = brokenCheck((ctx) => ctx.report({ messageId: 'undeclared' }));
    await expect(runCheck(check, await clusters())).rejects.toThrow('control-plane/harness-probe on * reported messageId "undeclared", which its meta.messages does not declare');
  });

  it('a correct finding with no placeholders passes the contract', async () => {
    const { runs } = await runCheck(brokenCheck((ctx) => ctx.report({ messageId: 'noted' })), await clusters());
    expect(runs.map((r) => [r.outcome, r.findings.map((f) => `${f.messageId} ${f.severity}`)])).toEqual([['pass', ['noted info']]]);
  });
});
