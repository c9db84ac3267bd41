package dedup

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/teplokarta/teplokarta/internal/model"
)

// sameText returns the incident of an earlier appeal with the same stems in the same place within the
// horizon (from Redis or from this batch). Its own claim (a crash re-run) does not count.
func (d *Redis) sameText(it *item, localFP map[string]string) (string, bool) {
	for j, k := range it.fpKeys {
		v := it.fpSeen[j]
		if v == "" {
			v = localFP[k]
		}
		if inc, ok := d.withinHorizon(it, v); ok {
			return inc, true
		}
	}
	return "", false
}

func (d *core) fpKey(a *model.Appeal, fp uint64) string {
	return d.cfg.KeyPrefix + "dedup:fp:" + a.Region + ":" + a.OKTMO + ":" + strconv.FormatUint(fp, 16)
}

// withinHorizon decodes a text claim "<incident>|<event time>" and accepts it if it is another appeal's
// and within the horizon of this one.
func (d *core) withinHorizon(it *item, v string) (string, bool) {
	inc, ts, ok := strings.Cut(v, "|")
	if !ok || inc == "" || inc == it.a.ID {
		return "", false
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || abs(t-it.rec.eventTime) > int64(d.cfg.Horizon.Seconds()) {
		return "", false
	}
	return inc, true
}

// textClaim is the value of an exact-text key: "<incident>|<event time>".
func textClaim(it *item) string {
	return it.dec.IncidentID + "|" + strconv.FormatInt(it.rec.eventTime, 10)
}

// queueTextClaims claims the exact-text keys of the decided items for their incidents. A plain SET NX,
// not a script: almost every claim is of a new key, and a Lua call costs Redis several times a SET.
// The rare key that is taken is looked at in settleTextClaims.
func (d *Redis) queueTextClaims(ctx context.Context, p redis.Pipeliner, open []*item) {
	for _, it := range open {
		it.fpClaims = it.fpClaims[:0]
		if it.dec.Kind == ExactDuplicate {
			continue
		}
		for _, k := range it.fpKeys {
			it.fpClaims = append(it.fpClaims, p.SetNX(ctx, k, textClaim(it), 2*d.cfg.Horizon))
		}
	}
}

type textKey struct {
	it  *item
	key string
}

// settleTextClaims looks at the text keys an appeal could not claim. Held within the horizon by another
// incident: two partitions decided the same text at the same moment, each before the other's claim
// existed, and the one that lost follows the winner's incident (its stored record, if any, is re-pointed
// so that later matches follow the winner too). Held by a stale claim, out of the horizon: replaced by
// textClaimScript, atomically, since another instance may be replacing it too.
func (d *Redis) settleTextClaims(ctx context.Context, open []*item) error {
	var lost []textKey
	for _, it := range open {
		for j, c := range it.fpClaims {
			won, err := c.Result()
			if err != nil {
				return fmt.Errorf("dedup: text claim %s: %w", it.a.ID, err)
			}
			if !won {
				lost = append(lost, textKey{it, it.fpKeys[j]})
			}
		}
	}
	if len(lost) == 0 {
		return nil
	}
	vals, err := d.readTextKeys(ctx, lost)
	if err != nil {
		return err
	}
	var moved []*item
	settled := map[*item]bool{} // the whole text's key comes first and wins over the body's
	var stale []textKey
	for i, c := range lost {
		if !d.followTextClaim(c.it, vals[i], settled, &moved) {
			stale = append(stale, c) // expired in between, or out of the horizon: the appeal may take it over
		}
	}
	if len(stale) > 0 {
		if err := d.replaceStaleTextClaims(ctx, stale, settled, &moved); err != nil {
			return err
		}
	}
	if len(moved) == 0 {
		return nil
	}
	return d.pipe(ctx, "text_repoint", func(p redis.Pipeliner) {
		for _, it := range moved {
			p.HSet(ctx, it.keys[it.own], recordField(it.a.ID), it.rec.encode())
		}
	})
}

// readTextKeys returns the values of text keys, "" for a key that expired in between.
func (d *Redis) readTextKeys(ctx context.Context, keys []textKey) ([]string, error) {
	names := make([]string, len(keys))
	for i, c := range keys {
		names[i] = c.key
	}
	return d.getAll(ctx, "text_claims", names)
}

// followTextClaim makes it follow the incident holding its text within the horizon. It reports whether
// the claim v needs nothing more: followed, already this incident's, the appeal's own (a crash re-run),
// or the appeal was settled by an earlier key. False means v is stale: none, or out of the horizon.
func (d *Redis) followTextClaim(it *item, v string, settled map[*item]bool, moved *[]*item) bool {
	if settled[it] {
		return true
	}
	if inc, _, ok := strings.Cut(v, "|"); ok && inc == it.a.ID {
		return true
	}
	inc, ok := d.withinHorizon(it, v)
	if !ok {
		return false
	}
	if inc != it.dec.IncidentID {
		settled[it] = true
		it.dec = Decision{Kind: Voice, IncidentID: inc}
		it.rec.incident = inc
		if !it.echo {
			*moved = append(*moved, it)
		}
	}
	return true
}

// replaceStaleTextClaims takes over stale text keys; a key another appeal claimed within the horizon in
// the meantime is followed like any other lost claim.
func (d *Redis) replaceStaleTextClaims(ctx context.Context, stale []textKey, settled map[*item]bool, moved *[]*item) error {
	cmds := make([]*redis.Cmd, len(stale))
	if err := d.pipe(ctx, "text_replace", func(p redis.Pipeliner) {
		for i, c := range stale {
			cmds[i] = p.Eval(ctx, textClaimScript, []string{c.key}, textClaim(c.it), (2 * d.cfg.Horizon).Milliseconds(),
				int64(d.cfg.Horizon.Seconds()), c.it.rec.eventTime)
		}
	}); err != nil {
		return err
	}
	var taken []textKey
	for i, c := range cmds {
		won, err := c.Int()
		if err != nil {
			return fmt.Errorf("dedup: replace text claim %s: %w", stale[i].it.a.ID, err)
		}
		if won == 0 {
			taken = append(taken, stale[i])
		}
	}
	if len(taken) == 0 {
		return nil
	}
	vals, err := d.readTextKeys(ctx, taken)
	if err != nil {
		return err
	}
	for i, c := range taken {
		d.followTextClaim(c.it, vals[i], settled, moved)
	}
	return nil
}
