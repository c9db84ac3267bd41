package sla

import (
	"context"
	"fmt"
	"time"
)

// OpenAppeals lists appeals not yet resolved that were received at or after since, oldest first, at most
// limit: an agency's work queue (agency set) or, for curators, everything open (agency ""; appeals
// returned to the curators have agency ""). It reads ClickHouse, which the applier writes first in each
// batch, so a listed state is never older than what a previous API reply said (on a cluster it reads every
// replica: latest.go).
func (e *Engine) OpenAppeals(ctx context.Context, agency string, all bool, since time.Time, limit int) ([]State, error) {
	state := "status != 'resolved'"
	args := []any{since.UTC()}
	if !all {
		state += ` AND agency = ?`
		args = append(args, agency)
	}
	// received_time is the same in every version of an appeal, so it may filter rows before they collapse.
	left, err := e.store.latest(ctx, "appeal_sla", []string{"region", "oktmo", "category", "source", "agency", "status",
		"received_time", "deadline", "breached", "updated_time"}, "received_time >= ?", state)
	if err != nil {
		return nil, fmt.Errorf("sla: list open appeals: %w", err)
	}
	right, err := e.store.latest(ctx, "appeal_sla_extra", []string{"municipality", "theme", "at_risk"}, "", "")
	if err != nil {
		return nil, fmt.Errorf("sla: list open appeals: %w", err)
	}
	// The extra columns of the same version (municipality, theme, at-risk notice); 18.16's ANY LEFT JOIN.
	q := `SELECT appeal_id, region, oktmo, category, source, agency, status, received_time, deadline, breached,
		updated_time, version, municipality, theme, at_risk, extra_version
		FROM (` + left + `) ANY LEFT JOIN (SELECT appeal_id, municipality, theme, at_risk, version AS extra_version
		FROM (` + right + `)) USING appeal_id ORDER BY received_time, appeal_id LIMIT ?`
	args = append(args, limit)
	rows, err := e.store.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("sla: list open appeals: %w", err)
	}
	defer rows.Close()
	var out []State
	for rows.Next() {
		var st State
		var breached, atRisk uint8
		var extraVersion uint64
		if err := rows.Scan(&st.AppealID, &st.Region, &st.OKTMO, &st.Category, &st.Source, &st.Agency, &st.Status,
			&st.Received, &st.Deadline, &breached, &st.Updated, &st.Version, &st.Municipality, &st.Theme, &atRisk, &extraVersion); err != nil {
			return nil, fmt.Errorf("sla: list open appeals: %w", err)
		}
		st.Breached, st.AtRisk = breached == 1, atRisk == 1 && extraVersion == st.Version
		st.Received, st.Deadline, st.Updated = st.Received.UTC(), st.Deadline.UTC(), st.Updated.UTC()
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sla: list open appeals: %w", err)
	}
	return out, nil
}

// Now is the engine's clock (a scaled one in demo runs), for callers that default times to it.
func (e *Engine) Now() time.Time { return e.clk.Now() }
