-- The workflow's acts name their case through an id as well: a complaint (`<case>/complaint/<n>`)
-- and a notification (`<alert id>/<recipient>`). The index of 0003 is widened to find them: the
-- `case` of an event, else the case part of its alert, complaint or notification id. The same
-- expression is `EventData::concerns_case`.
DROP INDEX events_supervision_case;
CREATE INDEX events_supervision_case ON events (
    (coalesce(data::jsonb ->> 'case', substring(coalesce(data::jsonb ->> 'alert', data::jsonb ->> 'complaint', data::jsonb ->> 'notification') FROM '^([^/]*)/'))),
    position
) WHERE stream = 'supervision';
