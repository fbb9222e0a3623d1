// Every migration, by name. Names sort in the order they run (kysely compares them as
// strings), so new files take the next `NNNN_` number. A static map rather than a folder scan:
// the set of migrations is part of the program, not of whatever files sit on disk.

import type { Migration } from 'kysely/migration';
import { migration0001Initial } from './0001_initial.ts';
import { migration0002Roomserver } from './0002_roomserver.ts';
import { migration0003Accounts } from './0003_accounts.ts';
import { migration0004ClientState } from './0004_client_state.ts';
import { migration0005Sync } from './0005_sync.ts';
import { migration0006Rooms } from './0006_rooms.ts';
import { migration0007Federation } from './0007_federation.ts';
import { migration0008E2ee } from './0008_e2ee.ts';
import { migration0009Media } from './0009_media.ts';
import { migration0010PushRelations } from './0010_push_relations.ts';
import { migration0011Admin } from './0011_admin.ts';
import { migration0013SearchUserDirectory } from './0013_search_user_directory.ts';
import { migration0014ReportsOpenid } from './0014_reports_openid.ts';
import { migration0016Appservices } from './0016_appservices.ts';
import { migration0017Sso } from './0017_sso.ts';
import { migration0019AdminApiWebhooks } from './0019_admin_api_webhooks.ts';
import { migration0020Compliance } from './0020_compliance.ts';
import { migration0021Backfill } from './0021_backfill.ts';

export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_initial': migration0001Initial,
  '0002_roomserver': migration0002Roomserver,
  '0003_accounts': migration0003Accounts,
  '0004_client_state': migration0004ClientState,
  '0005_sync': migration0005Sync,
  '0006_rooms': migration0006Rooms,
  '0007_federation': migration0007Federation,
  '0008_e2ee': migration0008E2ee,
  '0009_media': migration0009Media,
  '0010_push_relations': migration0010PushRelations,
  '0011_admin': migration0011Admin,
  '0013_search_user_directory': migration0013SearchUserDirectory,
  '0014_reports_openid': migration0014ReportsOpenid,
  '0016_appservices': migration0016Appservices,
  '0017_sso': migration0017Sso,
  '0019_admin_api_webhooks': migration0019AdminApiWebhooks,
  '0020_compliance': migration0020Compliance,
  '0021_backfill': migration0021Backfill,
});
