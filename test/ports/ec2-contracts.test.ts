/**
 * The FleetSource contract (test/ports/suites.ts) held against Ec2FleetSource on moto: the
 * same fleet as the contract's fixture — a running instance in group `web`, a running instance in no
 * group, a stopped one in `web` — built with real API calls, so the ids are moto's.
 */
import { Ec2FleetSource } from '../../shared/adapters/ec2-fleet.ts';
import type { FleetInstance } from '../../shared/domain/diff.ts';
import { describeWithMoto, useMoto } from '../helpers/moto.ts';
import { MotoFleet, motoFleetClients } from '../helpers/moto-fleet.ts';
import { type ContractFleet, fleetSourceContract } from './suites.ts';

describeWithMoto('FleetSource contract: Ec2FleetSource (moto)', () => {
  const moto = useMoto();

  async function make(): Promise<ContractFleet> {
    const clients = motoFleetClients(moto);
    const fleet = new MotoFleet(clients);
    const ami = await fleet.registerAmi('golden');
    const template = await fleet.launchTemplate('web', ami);
    const [inWeb] = await fleet.autoScalingGroup({ name: 'web', launch: { template, version: '$Latest' } });
    const [ungrouped] = await fleet.runInstances({ imageId: ami });
    await fleet.runInstances({ imageId: ami, asgName: 'web', state: 'stopped' });
    const running: FleetInstance[] = [
      { instanceId: inWeb as string, amiId: ami, asgName: 'web' },
      { instanceId: ungrouped as string, amiId: ami, asgName: null },
    ];
    running.sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
    return { source: new Ec2FleetSource(clients.ec2, clients.autoScaling), running };
  }

  fleetSourceContract(make);
});
