package storage

import (
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ExpireTTL deletes the documents whose TTL index date is older than now minus the index's
// expireAfterSeconds, and returns how many it deleted. For an array of dates the earliest
// date counts, as in MongoDB; documents without a date in the field never expire.
func (s *Store) ExpireTTL(now time.Time) int {
	deleted := 0
	for _, c := range s.AllCollections() {
		_ = c.Write(func(tx *Tx) error {
			for _, ix := range c.indexes {
				if ix.Spec.ExpireAfterSeconds == nil || len(ix.fields) != 1 {
					continue
				}
				cutoff := bson.NewDateTimeFromTime(now.Add(-time.Duration(*ix.Spec.ExpireAfterSeconds) * time.Second))
				b := &bound{hasLo: true, lo: bson.DateTime(math.MinInt64), loIncl: true, hasHi: true, hi: cutoff, hiIncl: true}
				var expired []uint64
				tx.scan(ix, []*bound{b}, func(e entry) bool {
					expired = append(expired, e.rid)
					return true
				})
				for _, rid := range expired {
					if rec, ok := tx.Get(rid); ok {
						tx.Delete(rec)
						deleted++
					}
				}
			}
			return nil
		})
	}
	return deleted
}
