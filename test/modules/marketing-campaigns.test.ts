import fc from 'fast-check';
import { ZodError } from 'zod';
import { campaignSchema, createMarketingService, type CampaignInput, type MarketingService } from '../../modules/marketing';
import { createTestEnv, type TestEnv } from '../support/harness';

let env: TestEnv;
let marketing: MarketingService;
beforeAll(async () => {
  env = await createTestEnv();
  marketing = createMarketingService({ pool: env.pool });
});
afterAll(() => env.close());

const presale = {
  kind: 'PRESALE' as const,
  id: 'camp_presale',
  name: 'Double 11 presale',
  skuId: 'sku_tv',
  presalePriceFen: 500_000,
  depositFen: 10_000,
  depositValueFen: 30_000,
  depositStart: '2030-10-20T00:00:00Z',
  depositEnd: '2030-11-10T00:00:00Z',
  finalStart: '2030-11-11T00:00:00Z',
  finalEnd: '2030-11-12T00:00:00Z',
};
const groupBuy = {
  kind: 'GROUP_BUY' as const,
  id: 'camp_group',
  name: 'Three buy together',
  skuId: 'sku_tea',
  groupPriceFen: 9_900,
  groupSize: 3,
  perUserLimit: 2,
  virtualSuccess: { minRealMembers: 2 },
  startsAt: '2030-11-01T00:00:00Z',
  endsAt: '2030-11-30T00:00:00Z',
};
const flashSale = {
  kind: 'FLASH_SALE' as const,
  id: 'camp_flash',
  name: 'Midnight flash',
  skuId: 'sku_phone',
  flashPriceFen: 99_900,
  stockCap: 100,
  perUserLimit: 1,
  startsAt: '2030-11-11T00:00:00Z',
  endsAt: '2030-11-11T00:10:00Z',
};

/** The fields a rejected campaign's issues point at. */
function rejectedFields(input: unknown): string[] {
  const parsed = campaignSchema.safeParse(input);
  expect(parsed.success).toBe(false);
  return parsed.error!.issues.map((issue) => issue.path.join('.'));
}

describe('validation', () => {
  test('valid definitions parse, with defaults filled in', () => {
    expect(campaignSchema.parse(presale)).toMatchObject({ depositRefundable: false, depositStart: new Date(presale.depositStart) });
    expect(campaignSchema.parse(groupBuy)).toMatchObject({ formationWindowMinutes: 24 * 60, onFullGroup: 'REJECT' });
    expect(campaignSchema.parse(flashSale)).toMatchObject({ perUserLimitUnit: 'UNITS' });
    expect(campaignSchema.parse({ ...presale, depositFen: 100_000, depositValueFen: undefined })).toMatchObject({ depositFen: 100_000 });
    expect(campaignSchema.parse({ ...presale, finalStart: presale.depositEnd })).toBeTruthy();
  });

  test.each([
    ['deposit above 20% of the presale price', { ...presale, depositFen: 100_001 }, 'depositFen'],
    ['final payment opening before the deposit window closes', { ...presale, finalStart: '2030-11-09T23:59:59Z' }, 'finalStart'],
    ['an empty deposit window', { ...presale, depositEnd: presale.depositStart }, 'depositEnd'],
    ['an empty final window', { ...presale, finalEnd: presale.finalStart }, 'finalEnd'],
    ['deposit inflation below the deposit', { ...presale, depositValueFen: 9_999 }, 'depositValueFen'],
    ['deposit inflation above the price', { ...presale, depositValueFen: 500_001 }, 'depositValueFen'],
    ['a zero deposit', { ...presale, depositFen: 0 }, 'depositFen'],
    ['a group of 1', { ...groupBuy, groupSize: 1 }, 'groupSize'],
    ['a group of 51', { ...groupBuy, groupSize: 51 }, 'groupSize'],
    ['virtual success needing the whole group', { ...groupBuy, virtualSuccess: { minRealMembers: 3 } }, 'virtualSuccess.minRealMembers'],
    ['a group-buy ending before it starts', { ...groupBuy, endsAt: groupBuy.startsAt }, 'endsAt'],
    ['a per-user limit of 0', { ...groupBuy, perUserLimit: 0 }, 'perUserLimit'],
    ['a flash sale ending before it starts', { ...flashSale, startsAt: flashSale.endsAt, endsAt: flashSale.startsAt }, 'endsAt'],
    ['a flash sale without stock', { ...flashSale, stockCap: 0 }, 'stockCap'],
    ['a flash price of 0', { ...flashSale, flashPriceFen: 0 }, 'flashPriceFen'],
    ['an unknown kind', { ...flashSale, kind: 'LOTTERY' }, 'kind'],
  ])('rejects %s, naming the field', (_what, input, field) => {
    expect(rejectedFields(input)).toContain(field);
  });

  test('messages say what is wrong', () => {
    const messages = campaignSchema.safeParse({ ...presale, depositFen: 100_001, finalStart: '2030-11-01T00:00:00Z' }).error!.issues.map((issue) => issue.message);
    expect(messages).toEqual(expect.arrayContaining(['depositFen must be at most 20% of presalePriceFen', 'finalStart must not be before depositEnd']));
    expect(campaignSchema.safeParse({ ...groupBuy, groupSize: 51 }).error!.issues[0].message).toBe('groupSize must be at most 50');
  });

  test('property: a deposit is accepted exactly when it is at most 20% of the presale price', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000 }), fc.integer({ min: 1, max: 10_000_000 }), (presalePriceFen, depositFen) => {
        const parsed = campaignSchema.safeParse({ ...presale, presalePriceFen, depositFen, depositValueFen: undefined });
        expect(parsed.success).toBe(depositFen * 5 <= presalePriceFen);
      }),
      { numRuns: 300 },
    );
  });

  test('property: the final window may open exactly when the deposit window has closed, not before', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1_000_000, max: 1_000_000 }), (offsetSeconds) => {
        const finalStart = new Date(Date.parse(presale.depositEnd) + offsetSeconds * 1000);
        const parsed = campaignSchema.safeParse({ ...presale, finalStart, finalEnd: new Date(finalStart.getTime() + 86_400_000) });
        expect(parsed.success).toBe(offsetSeconds >= 0);
      }),
      { numRuns: 200 },
    );
  });

  test('property: group size is accepted exactly in 2..50', () => {
    fc.assert(
      fc.property(fc.integer({ min: -5, max: 60 }), (groupSize) => {
        const parsed = campaignSchema.safeParse({ ...groupBuy, groupSize, virtualSuccess: undefined });
        expect(parsed.success).toBe(groupSize >= 2 && groupSize <= 50);
      }),
    );
  });
});

describe('storing campaigns', () => {
  test('create, get and list by kind and by time', async () => {
    for (const campaign of [presale, groupBuy, flashSale] as CampaignInput[]) await marketing.createCampaign(campaign);
    const stored = await marketing.getCampaign('camp_presale');
    expect(stored).toEqual(campaignSchema.parse(presale));
    expect(stored.kind === 'PRESALE' && stored.finalStart).toEqual(new Date(presale.finalStart));

    expect((await marketing.listCampaigns()).map((campaign) => campaign.id)).toEqual(['camp_presale', 'camp_group', 'camp_flash']);
    expect((await marketing.listCampaigns({ kind: 'GROUP_BUY' })).map((campaign) => campaign.id)).toEqual(['camp_group']);
    const atMidnight = await marketing.listCampaigns({ activeAt: '2030-11-11T00:05:00Z' });
    expect(atMidnight.map((campaign) => campaign.id)).toEqual(['camp_presale', 'camp_group', 'camp_flash']);
    expect((await marketing.listCampaigns({ activeAt: '2030-10-25T00:00:00Z' })).map((campaign) => campaign.id)).toEqual(['camp_presale']);
  });

  test('creating again with the same id returns the first definition; invalid ones are not stored', async () => {
    const again = await marketing.createCampaign({ ...flashSale, stockCap: 5 });
    expect(again).toMatchObject({ id: 'camp_flash', stockCap: 100 });
    await expect(marketing.createCampaign({ ...groupBuy, id: 'camp_bad', groupSize: 51 })).rejects.toBeInstanceOf(ZodError);
    await expect(marketing.getCampaign('camp_bad')).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
  });
});
