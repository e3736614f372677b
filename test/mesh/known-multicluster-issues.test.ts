import { describe, expect, it } from 'vitest';
import { KNOWN_MULTICLUSTER_ISSUES, isAffected, knownIssuesFor, knownIssuesTable } from '../../src/mesh/known-multicluster-issues.ts';

const issuesOf = (version: string, ambient = false) => knownIssuesFor(version, { ambient }).map((r) => r.issue).sort();

describe('known multicluster issues by version', () => {
  it('every row has a source, a fixed release and ranges whose ends parse and are ordered', () => {
    expect(new Set(KNOWN_MULTICLUSTER_ISSUES.map((r) => r.issue)).size).toBe(KNOWN_MULTICLUSTER_ISSUES.length);
    for (const row of KNOWN_MULTICLUSTER_ISSUES) {
      expect(row.source.length).toBeGreaterThan(0);
      expect(row.fixedIn).toMatch(/^\d+\.\d+\.\d+/);
      for (const range of row.affected) {
        expect(isAffected(row, range.from)).toBe(true);
        expect(isAffected(row, range.to)).toBe(true);
      }
      // The first fixed release is outside every range.
      expect(isAffected(row, row.fixedIn.split(/[ ,]/)[0])).toBe(false);
    }
  });

  it('1.29.x carries istio#60082 up to 1.29.6; 1.30.0 does not', () => {
    expect(issuesOf('1.29.0')).toEqual([60082]);
    expect(issuesOf('1.29.6')).toEqual([60082]);
    expect(issuesOf('1.30.0')).not.toContain(60082);
  });

  it('1.30.x: rotation defects, #60612 fixed in 1.30.3, #61043 and #60920 in none of the 1.30 tags', () => {
    expect(issuesOf('1.30.1')).toEqual([60612, 60920, 61043]);
    expect(issuesOf('1.30.3')).toEqual([60920, 61043]);
    expect(issuesOf('1.31.0')).toEqual([]);
  });

  it('the ambient-only row hits ambient meshes only, and 1.28.3 has its fix', () => {
    expect(issuesOf('1.27.3')).toEqual([]);
    expect(issuesOf('1.27.3', true)).toEqual([58047]);
    expect(issuesOf('1.28.2', true)).toEqual([58047]);
    expect(issuesOf('1.28.3', true)).toEqual([]);
  });

  it('pre-releases and unparseable versions match no row', () => {
    expect(issuesOf('1.30.0-rc.0')).toEqual([]);
    expect(issuesOf('master')).toEqual([]);
    expect(issuesOf('v1.29.2')).toEqual([60082]);
  });

  it('the table lists every row with its link', () => {
    const text = knownIssuesTable();
    for (const row of KNOWN_MULTICLUSTER_ISSUES) expect(text).toContain(`https://github.com/istio/istio/issues/${row.issue}`);
    expect(text.split('\n')).toHaveLength(KNOWN_MULTICLUSTER_ISSUES.length);
  });
});
