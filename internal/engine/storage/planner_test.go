package storage

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/match"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// randomValue draws from a small pool so that equal values, mixed numeric types, null,
// arrays and documents all collide often.
func randomValue(r *rand.Rand, depth int) any {
	switch r.IntN(14) {
	case 0:
		return int32(r.IntN(6))
	case 1:
		return int64(r.IntN(6))
	case 2:
		return float64(r.IntN(12)) / 2
	case 3:
		return []string{"", "a", "ab", "abc", "b", "B"}[r.IntN(6)]
	case 4:
		return nil
	case 5:
		return bson.Decimal128{}
	case 6:
		return r.IntN(2) == 0
	case 7:
		return bson.DateTime(int64(r.IntN(4)) * 1000)
	case 8:
		return math.NaN()
	case 9, 10:
		if depth > 1 {
			return int32(r.IntN(6))
		}
		n := r.IntN(4)
		arr := bson.A{}
		for range n {
			arr = append(arr, randomValue(r, depth+1))
		}
		return arr
	case 11:
		if depth > 1 {
			return "x"
		}
		return bson.D{{Key: "b", Value: randomValue(r, depth+1)}}
	case 12:
		return bson.MinKey{}
	}
	return bson.MaxKey{}
}

func randomDoc(r *rand.Rand, id int) bson.D {
	doc := bson.D{{Key: "_id", Value: int32(id)}}
	if r.IntN(8) != 0 {
		doc = append(doc, bson.E{Key: "a", Value: randomValue(r, 0)})
	}
	if r.IntN(4) != 0 {
		doc = append(doc, bson.E{Key: "b", Value: randomValue(r, 1)})
	}
	return doc
}

func scalar(r *rand.Rand) any {
	for {
		v := randomValue(r, 2)
		if _, isArr := v.(bson.A); !isArr {
			return v
		}
	}
}

func randomFilter(r *rand.Rand) bson.D {
	field := []string{"a", "a", "a.b", "b"}[r.IntN(4)]
	cond := func() any {
		switch r.IntN(9) {
		case 0:
			return scalar(r)
		case 1:
			return bson.D{{Key: "$in", Value: bson.A{scalar(r), scalar(r), scalar(r)}}}
		case 2:
			return bson.D{{Key: "$gt", Value: scalar(r)}}
		case 3:
			return bson.D{{Key: "$lte", Value: scalar(r)}}
		case 4:
			return bson.D{{Key: "$gte", Value: scalar(r)}, {Key: "$lt", Value: scalar(r)}}
		case 5:
			return bson.Regex{Pattern: "^a"}
		case 6:
			return bson.D{{Key: "$regex", Value: "^ab"}}
		case 7:
			return bson.D{{Key: "$eq", Value: nil}}
		}
		return bson.D{{Key: "$ne", Value: scalar(r)}}
	}
	f := bson.D{{Key: field, Value: cond()}}
	if r.IntN(3) == 0 {
		f = bson.D{{Key: "$and", Value: bson.A{f, bson.D{{Key: "b", Value: cond()}}}}}
	}
	return f
}

// TestIndexPlansMatchCollectionScan checks, for random data and filters, that every
// index the planner may choose returns exactly the documents a collection scan returns.
func TestIndexPlansMatchCollectionScan(t *testing.T) {
	specs := []IndexSpec{
		{Key: bson.D{{Key: "a", Value: int32(1)}}},
		{Key: bson.D{{Key: "a", Value: int32(-1)}}},
		{Key: bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(1)}}},
		{Key: bson.D{{Key: "a", Value: int32(-1)}, {Key: "b", Value: int32(-1)}}},
		{Key: bson.D{{Key: "a.b", Value: int32(1)}}},
		{Key: bson.D{{Key: "b", Value: int32(1)}}, Sparse: true},
	}
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 7))
		docs := make([]bson.D, 200)
		for i := range docs {
			docs[i] = randomDoc(r, i)
		}
		for _, spec := range specs {
			spec.Name = DefaultIndexName(spec.Key)
			s := New()
			c, err := s.Create("db", "c", nil)
			require.NoError(t, err)
			require.NoError(t, c.Write(func(tx *Tx) error {
				if _, err := tx.CreateIndex(spec); err != nil {
					return err
				}
				for _, d := range docs {
					d, raw, err := PrepareDocument(d, nil)
					if err != nil {
						return err
					}
					if _, err := tx.Insert(d, raw, WriteOptions{}); err != nil && !isParallelArrays(err) {
						return err
					}
				}
				return nil
			}))
			for range 60 {
				filter := randomFilter(r)
				m, err := match.Compile(filter, nil)
				require.NoError(t, err)
				var planned, scanned []int32
				require.NoError(t, c.Read(func(tx *Tx) error {
					hits, plan, err := tx.Find(&Query{Filter: filter, Matcher: m})
					if err != nil {
						return err
					}
					for _, h := range hits {
						planned = append(planned, h.Rec.Doc[0].Value.(int32))
					}
					tx.All(func(rec *Record) bool {
						if ok, _ := m.Match(rec.Doc, nil); ok {
							scanned = append(scanned, rec.Doc[0].Value.(int32))
						}
						return true
					})
					_ = plan
					return nil
				}))
				slices.Sort(planned)
				require.Equal(t, scanned, planned, "seed %d index %s filter %v", seed, spec.Name, filter)
			}
		}
	}
}

func isParallelArrays(err error) bool {
	return err != nil && fmt.Sprint(err) != "" && contains(err.Error(), "parallel arrays")
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func TestPlannerUsesIndexes(t *testing.T) {
	s := New()
	c, err := s.Create("db", "c", nil)
	require.NoError(t, err)
	require.NoError(t, c.Write(func(tx *Tx) error {
		if _, err := tx.CreateIndex(IndexSpec{Name: "k_1", Key: bson.D{{Key: "k", Value: int32(1)}}}); err != nil {
			return err
		}
		for i := range 1000 {
			d, raw, _ := PrepareDocument(bson.D{{Key: "_id", Value: int32(i)}, {Key: "k", Value: int32(i % 100)}, {Key: "s", Value: fmt.Sprintf("s%03d", i)}}, nil)
			if _, err := tx.Insert(d, raw, WriteOptions{}); err != nil {
				return err
			}
		}
		return nil
	}))
	cases := []struct {
		filter   bson.D
		index    string
		examined int
	}{
		{bson.D{{Key: "_id", Value: int32(5)}}, "_id_", 1},
		{bson.D{{Key: "k", Value: int32(7)}}, "k_1", 10},
		{bson.D{{Key: "k", Value: bson.D{{Key: "$in", Value: bson.A{int32(1), 2.0, int64(3)}}}}}, "k_1", 30},
		{bson.D{{Key: "k", Value: bson.D{{Key: "$gte", Value: int32(98)}}}}, "k_1", 20},
		{bson.D{{Key: "k", Value: bson.D{{Key: "$gt", Value: int32(10)}, {Key: "$lte", Value: int32(12)}}}}, "k_1", 20},
		{bson.D{{Key: "k", Value: bson.D{{Key: "$lt", Value: "z"}}}}, "k_1", 0},
		{bson.D{{Key: "s", Value: "s005"}}, "", 1000},
		{bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "s", Value: "s005"}}, bson.D{{Key: "k", Value: int32(5)}}}}}, "k_1", 10},
	}
	for _, tc := range cases {
		m, err := match.Compile(tc.filter, nil)
		require.NoError(t, err)
		require.NoError(t, c.Read(func(tx *Tx) error {
			_, plan, err := tx.Find(&Query{Filter: tc.filter, Matcher: m})
			require.NoError(t, err)
			require.Equal(t, tc.index, plan.Index, "%v", tc.filter)
			require.Equal(t, tc.examined, plan.DocsExamined, "%v", tc.filter)
			return nil
		}))
	}
}
