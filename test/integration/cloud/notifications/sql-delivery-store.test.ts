import { afterAll, describe } from 'vitest';
import { SqlDeliveryStore } from '../../../../cloud/notifications/sql-delivery-store.js';
import { STORE_FACTORIES } from '../../../support/cloud-stores.js';
import { deliveryStoreContract } from '../../../unit/cloud/notifications/delivery-store-contract.js';

/** The delivery store contract on each database under the relay; every test gets a fresh store. */
describe.each(STORE_FACTORIES)('SqlDeliveryStore on $name', (factory) => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  deliveryStoreContract(factory.name, async () => {
    const { db, cleanup } = await factory.open();
    cleanups.push(cleanup);
    return new SqlDeliveryStore(db);
  });
});
