-- The deadline a source stated for an appeal (ПОС sends one; zero when the SLA policy decides), kept with
-- the row so that the SLA engine can rebuild an incident's "created" event from appeals alone: an incident
-- stored by a processor that crashed before producing that event still gets its one deadline
-- (processor/sla reconcile). 18.16 has no ADD COLUMN IF NOT EXISTS: the migration runner treats "column
-- already exists" on an ADD COLUMN as done, so a crash before this file is recorded is harmless.
ALTER TABLE appeals ADD COLUMN sla_deadline DateTime DEFAULT toDateTime(0);
