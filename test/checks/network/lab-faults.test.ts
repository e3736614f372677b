// Each lab fault CHECKS.md names for a network check makes it fail on the faulted cluster; healthy labs
// give no error finding from the network checks. One lab run per case serves all network checks.
import { describe, expect, it } from 'vitest';
import { brokenProbes, errorKeys, runChecksOnLab } from '../../helpers/lab-run.ts';

describe('network checks on the lab', () => {
  it.each(['multi-primary', 'multi-primary-single-network', 'primary-remote'])('%s: no error finding, no broken probe', async (scenario) => {
    const run = await runChecksOnLab({ scenario }, { only: ['network'] });
    expect(errorKeys(run)).toEqual([]);
    expect(brokenProbes(run)).toEqual([]);
  });

  it.each([
    ['multi-primary', 'network-label-missing:cluster2', ['network/topology [cluster2] networkUnknown']],
    ['multi-primary', 'ewgw-missing:cluster2', ['network/topology [cluster2] networkWithoutGateway']],
    ['multi-primary', 'ewgw-not-ready:cluster2', ['network/eastwest-gateway [cluster2] ewgwNotReady']],
    ['multi-primary', 'ewgw-lb-pending:cluster2', ['network/eastwest-gateway [cluster2] ewgwLbPending', 'network/gateway-view [cluster2] gatewayViewMissing']],
    ['multi-primary', 'ewgw-no-15443:cluster2', ['network/eastwest-gateway [cluster2] ewgwNo15443']],
    [
      'multi-primary',
      'ewgw-network-label-missing:cluster2',
      ['network/eastwest-gateway [cluster2] ewgwNetworkLabelMissing', 'network/gateway-view [cluster2] gatewayViewMissing'],
    ],
    ['multi-primary', 'cross-network-gateway-missing:cluster2', ['network/cross-network-gateway [cluster2] crossNetworkGatewayMissing']],
    ['multi-primary', 'cross-network-gateway-istio-mutual:cluster1', ['network/cross-network-gateway [cluster1] crossNetworkGatewayIstioMutual']],
    ['multi-primary', 'cross-network-gateway-duplicate:cluster2', ['network/cross-network-gateway [cluster2] crossNetworkGatewayDuplicate']],
    ['primary-remote', 'cross-network-gateway-missing:cluster1', ['network/cross-network-gateway [cluster1] crossNetworkGatewayMissing']],
    ['primary-remote', 'istiod-not-exposed:cluster1', ['network/istiod-exposure [cluster1] istiodNotExposed']],
    ['multi-primary', 'networkpolicy-blocks-gateway:cluster2', ['network/policies [cluster2] policyBlocksGateway']],
  ])('%s + %s', async (scenario, fault, expected) => {
    const run = await runChecksOnLab({ scenario, faults: [fault] }, { only: ['network'] });
    expect(errorKeys(run)).toEqual(expect.arrayContaining(expected));
    expect(brokenProbes(run)).toEqual([]);
  });
});
