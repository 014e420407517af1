import { createFlashSaleService, type ConfirmAdmissionInput, type ReleaseAdmissionInput } from '../modules/flash-sale';
import type { ActivityDeps } from './deps';
import { asActivity } from './errors';

/** Activities of the flash-sale admission module: thin wrappers over its service (see modules/README.md). */
export function createFlashSaleActivities(deps: ActivityDeps) {
  const flashSale = createFlashSaleService({ pool: deps.pool, clock: deps.clock });
  return {
    /** The order's admission exists and still holds its units (ADMISSION_NOT_FOUND / ADMISSION_RELEASED otherwise). */
    confirmAdmission: (input: ConfirmAdmissionInput) => asActivity(() => flashSale.confirmAdmission(input)),
    /** Compensation of the admission (key: the admission id): units back to the campaign and the buyer's limit. */
    releaseAdmission: (input: ReleaseAdmissionInput) => asActivity(() => flashSale.releaseAdmission(input)),
  };
}

export type FlashSaleActivities = ReturnType<typeof createFlashSaleActivities>;
