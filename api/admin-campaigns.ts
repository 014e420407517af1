import type { Client } from '@temporalio/client';
import { Router } from 'express';
import type { Pool } from 'pg';
import { z } from 'zod';
import { campaignSchema, createMarketingService } from '../modules/marketing';
import { DomainError } from '../modules/shared/errors';
import { createAuditTrail } from './audit';
import { requireRole } from './auth';
import { problemResponse, registry } from './openapi';
import { conflict, notFound } from './problem';
import { idParams, pathId } from './validation';

/**
 * Admin: presale, group-buy and flash-sale campaigns, validated by the marketing module's campaign
 * schemas (windows in order, deposit ≤ 20% of the presale price, group size 2..50...): a bad
 * definition is 400 with the offending fields. Stored by the marketing module; ids are the admin's.
 */
const CampaignBody = registry.register(
  'CampaignDefinition',
  z
    .object({ id: z.string(), kind: z.enum(['PRESALE', 'GROUP_BUY', 'FLASH_SALE']), name: z.string(), skuId: z.string() })
    .passthrough()
    .openapi({ description: 'A presale, group-buy or flash-sale campaign; the fields of each kind are in modules/marketing/campaign-schemas.ts' }),
);
const campaignResponse = (description: string) => ({ description, content: { 'application/json': { schema: CampaignBody } } });
const security: Record<string, string[]>[] = [{ apiKey: [] }, { bearerAuth: [] }];
registry.registerPath({
  method: 'post',
  path: '/admin/campaigns',
  summary: 'Create a campaign (presale, group-buy or flash-sale); repeating the same definition answers it again',
  security,
  request: { body: { content: { 'application/json': { schema: CampaignBody } } } },
  responses: {
    201: campaignResponse('Created'),
    200: campaignResponse('The same definition was stored before'),
    400: problemResponse('Invalid definition: the errors name the fields'),
    403: problemResponse('Not an admin'),
    409: problemResponse('A different campaign with this id exists'),
  },
});
registry.registerPath({
  method: 'get',
  path: '/admin/campaigns/{id}',
  summary: 'One campaign',
  security,
  request: { params: idParams },
  responses: { 200: campaignResponse('The campaign'), 404: problemResponse('No such campaign') },
});

export function adminCampaignsRouter(deps: { pool: Pool; temporal: Client }): Router {
  const router = Router();
  const marketing = createMarketingService({ pool: deps.pool });
  const trail = createAuditTrail(deps);

  router.post('/admin/campaigns', requireRole('admin'), async (req, res) => {
    const definition = campaignSchema.parse(req.body);
    const existing = await findCampaign(marketing, definition.id);
    if (existing) {
      if (JSON.stringify(existing) !== JSON.stringify(definition)) {
        throw conflict(`campaign ${definition.id} exists with another definition`, { campaignId: definition.id });
      }
      res.status(200).json(existing);
      return;
    }
    const created = await marketing.createCampaign(definition);
    await trail.record(req, res, { action: 'campaign.create', targetType: 'campaign', targetId: created.id, after: JSON.parse(JSON.stringify(created)) });
    res.setHeader('Location', `/admin/campaigns/${created.id}`);
    res.status(201).json(created);
  });

  router.get('/admin/campaigns/:id', requireRole('admin'), async (req, res) => {
    const campaign = await findCampaign(marketing, pathId(req.params));
    if (!campaign) throw notFound(`campaign ${req.params.id}`);
    res.json(campaign);
  });

  return router;
}

/** The campaign, or undefined when there is none (an id too long to exist is none too). */
export async function findCampaign(marketing: ReturnType<typeof createMarketingService>, campaignId: string) {
  try {
    return await marketing.getCampaign(campaignId);
  } catch (error) {
    if (error instanceof DomainError && error.code === 'CAMPAIGN_NOT_FOUND') return undefined;
    if (error instanceof z.ZodError) return undefined;
    throw error;
  }
}
