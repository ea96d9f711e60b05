-- Supervision events are found by the case they name (a case's history, state and evidence
-- pack), without reading the whole supervision stream: the `case` of a card, correction order
-- or exemption, or the case part of an acknowledged alert's id (`<case>/<rule>/<n>`). The same
-- expression is `EventData::concerns_case`.
CREATE INDEX events_supervision_case ON events (
    coalesce(
        json_extract(data, '$.case'),
        substr(json_extract(data, '$.alert'), 1, instr(json_extract(data, '$.alert'), '/') - 1)
    ),
    position
) WHERE stream = 'supervision';
