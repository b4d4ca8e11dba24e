import { MemoryDeliveryStore } from '../../../../cloud/notifications/memory-delivery-store.js';
import { deliveryStoreContract } from './delivery-store-contract.js';

deliveryStoreContract('memory', async () => new MemoryDeliveryStore());
