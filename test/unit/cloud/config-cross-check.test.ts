import { describe, expect, it } from 'vitest';
import { cloudConfigSchema } from '../../../cloud/config/schema.js';

describe('cloud config: escalation tiers must exist in the notification policy', () => {
  it('accepts the defaults (second_tier and supervisor are policy tiers)', () => {
    expect(cloudConfigSchema.safeParse({}).success).toBe(true);
  });

  it('accepts a step naming a tier the policy adds', () => {
    const config = {
      escalation: { steps: { critical: [{ afterS: 60, tier: 'night_nurse' }] } },
      notifications: { policy: { tiers: { night_nurse: [] } } },
    };
    expect(cloudConfigSchema.safeParse(config).success).toBe(true);
  });

  it('refuses a step naming a tier nobody is in, with its path', () => {
    const result = cloudConfigSchema.safeParse({
      escalation: { steps: { critical: [{ afterS: 60, tier: 'night_nurse' }] } },
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([
      expect.objectContaining({
        path: ['escalation', 'steps', 'critical', 0, 'tier'],
        message: 'no tier "night_nurse" in notifications.policy.tiers',
      }),
    ]);
  });
});
