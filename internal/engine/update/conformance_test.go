package update_test

import (
	"slices"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/update"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// result is what an update command reports, plus the collection afterwards.
type result struct {
	docs              []bson.D
	matched, modified int32
	upserted          bool
}

// runUpdate executes an update case the way the update command does: the filter selects
// documents (the first only unless multi), each is updated with the query's matched array
// position, and an upsert that matched nothing inserts the seeded document.
func runUpdate(c conformance.Case) (result, error) {
	var r result
	spec, _ := c.Update.(bson.D)
	m, err := match.Compile(c.Filter, nil)
	if err != nil {
		return r, err
	}
	u, err := update.Compile(spec, c.ArrayFilters)
	if err != nil {
		return r, err
	}
	r.docs = slices.Clone(c.Docs)
	for i, d := range r.docs {
		ok, pos, err := m.MatchPosition(d, nil)
		if err != nil {
			return r, err
		}
		if !ok {
			continue
		}
		r.matched++
		out, changed, err := u.Apply(d, &update.Context{Positional: pos})
		if err != nil {
			return r, err
		}
		if changed {
			r.modified++
			r.docs[i] = out
		}
		if !c.Multi {
			break
		}
	}
	if r.matched == 0 && c.Upsert {
		seed, err := update.UpsertSeed(c.Filter)
		if err != nil {
			return r, err
		}
		out, _, err := u.Apply(seed, &update.Context{Positional: -1, Inserting: true})
		if err != nil {
			return r, err
		}
		r.docs = append(r.docs, out)
		r.upserted = true
	}
	slices.SortStableFunc(r.docs, func(a, b bson.D) int { return value.Compare(value.Get(a, "_id"), value.Get(b, "_id")) })
	return r, nil
}

func TestConformance(t *testing.T) {
	cases, err := conformance.Load("update.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 150)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			before := value.DeepCopy(docsArray(c.Docs))
			r, err := runUpdate(c)
			// Apply must never modify the documents it is given.
			require.True(t, conformance.Same(before, docsArray(c.Docs)), "input documents were modified")
			if c.Error != 0 {
				require.Error(t, err)
				require.True(t, mongoerr.HasCode(err, c.Error), "want code %d, got %v", c.Error, err)
				return
			}
			require.NoError(t, err)
			if c.Matched != nil {
				require.Equal(t, *c.Matched, r.matched, "matched")
			}
			if c.Modified != nil {
				require.Equal(t, *c.Modified, r.modified, "modified")
			}
			require.Equal(t, c.Upserted, r.upserted, "upserted")
			got := docsArray(r.docs)
			require.True(t, conformance.Same(c.Expect, got), "want %v\n got %v", c.Expect, got)
		})
	}
}

func docsArray(docs []bson.D) bson.A {
	out := make(bson.A, len(docs))
	for i, d := range docs {
		out[i] = d
	}
	return out
}
