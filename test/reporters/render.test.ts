import { describe, expect, it } from 'vitest';
import { render, renderHuman, renderJson, renderJunit } from '../../src/reporters/index.ts';
import { realisticReport } from './helpers.ts';

describe('render', () => {
  it('dispatches by format', () => {
    const report = realisticReport();
    const options = { color: false, hideDurations: true };
    expect(render('human', report, options)).toBe(renderHuman(report, options));
    expect(render('json', report, options)).toBe(renderJson(report));
    expect(render('junit', report, options)).toBe(renderJunit(report));
  });
});
