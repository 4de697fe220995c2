-- A grant released by force tells its holder, like one taken over.
--
-- `forced_by` names the agent that released the grant over its holder; until the holder's heartbeat reports
-- it (`loss_reported`), the grant counts as a lease lost, like one taken over.

ALTER TABLE claims ADD COLUMN forced_by TEXT;
