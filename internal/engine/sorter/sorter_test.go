package sorter

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestConformance(t *testing.T) {
	cases, err := conformance.Load("sort.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(cases), 40)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			s, err := Compile(c.Sort)
			docs := append([]bson.D(nil), c.Docs...)
			if err == nil {
				err = SortDocs(docs, s)
			}
			if c.Error != 0 {
				require.Error(t, err)
				require.True(t, mongoerr.HasCode(err, c.Error), "want code %d, got %v", c.Error, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, idsOf(c.IDs), idsOf(ids(docs)))

			// TopK with every k must agree with the full sort.
			for k := 1; k <= len(docs); k++ {
				top, err := TopK(c.Docs, s, k)
				require.NoError(t, err)
				require.Equal(t, idsOf(c.IDs[:k]), idsOf(ids(top)), "k=%d", k)
			}
		})
	}
}

func ids(docs []bson.D) bson.A {
	out := bson.A{}
	for _, d := range docs {
		out = append(out, value.Get(d, "_id"))
	}
	return out
}

// idsOf renders ids for comparison and readable failures.
func idsOf(a bson.A) string { return fmt.Sprint([]any(a)) }

func mustCompile(t testing.TB, spec bson.D) *Sorter {
	t.Helper()
	s, err := Compile(spec)
	require.NoError(t, err)
	return s
}

func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		spec bson.D
		code int32
	}{
		{bson.D{}, 15976},
		{bson.D{{Key: "a", Value: 1.5e300}}, 15975},
		{bson.D{{Key: "a", Value: 0.5}}, 15975},
		{bson.D{{Key: "a", Value: bson.D{}}}, 17312},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$meta", Value: "textScore"}, {Key: "x", Value: int32(1)}}}}, mongoerr.FailedToParse},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$meta", Value: "nope"}}}}, 31138},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$meta", Value: int32(1)}}}}, 31138},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$meta", Value: "textScore"}}}}, mongoerr.NotImplemented},
		{bson.D{{Key: "a", Value: int32(1)}, {Key: "a", Value: int32(-1)}}, 7472500},
		{bson.D{{Key: "a\x00b", Value: int32(1)}}, 16411},
		{bson.D{{Key: ".a", Value: int32(1)}}, 15998},
		{bson.D{{Key: "$natural", Value: int32(1)}}, 16410},
		{bson.D{{Key: "a", Value: bson.A{int32(1)}}}, 15974},
	} {
		_, err := Compile(c.spec)
		require.Error(t, err, "%v", c.spec)
		require.True(t, mongoerr.HasCode(err, c.code), "%v: want %d, got %v", c.spec, c.code, err)
	}
	// Values that truncate to ±1 are accepted, as mongod truncates the direction.
	s := mustCompile(t, bson.D{{Key: "a", Value: 1.9}, {Key: "b", Value: -1.2}, {Key: "$id", Value: int32(1)}})
	require.Equal(t, []Field{{Path: "a"}, {Path: "b", Desc: true}, {Path: "$id"}}, s.Fields())
	require.Equal(t, 3, s.Len())
}

func TestParallelArrays(t *testing.T) {
	for _, c := range []struct {
		sort bson.D
		doc  bson.D
	}{
		{bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(1)}}, bson.D{{Key: "a", Value: bson.A{}}, {Key: "b", Value: bson.A{}}}},
		{bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(1)}}, bson.D{{Key: "a", Value: bson.A{int32(1), int32(2)}}, {Key: "b", Value: bson.A{int32(3)}}}},
		{bson.D{{Key: "a.b", Value: int32(1)}, {Key: "a.c", Value: int32(1)}},
			bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: bson.A{int32(1)}}, {Key: "c", Value: bson.A{int32(2)}}}}}},
		{bson.D{{Key: "a.b", Value: int32(1)}, {Key: "c", Value: int32(-1)}},
			bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "b", Value: int32(1)}}}}, {Key: "c", Value: bson.A{int32(2)}}}},
	} {
		s := mustCompile(t, c.sort)
		_, err := s.Key(c.doc)
		require.True(t, mongoerr.HasCode(err, mongoerr.BadValue), "%v: %v", c.doc, err)
		docs := []bson.D{{{Key: "_id", Value: int32(1)}}, c.doc}
		require.Error(t, SortDocs(docs, s))
		require.Equal(t, int32(1), docs[0][0].Value, "docs unchanged on error")
		_, err = TopK(docs, s, 1)
		require.Error(t, err)
		require.Error(t, SortDocs([]bson.D{c.doc}, s))
	}
	// The same array reached by two paths is not parallel; neither is the same path twice
	// through nested arrays.
	s := mustCompile(t, bson.D{{Key: "a.b", Value: int32(1)}, {Key: "a.c", Value: int32(1)}})
	_, err := s.Key(bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "b", Value: bson.A{int32(1), int32(2)}}, {Key: "c", Value: int32(3)}}}}})
	require.NoError(t, err)
}

func TestAmbiguousPositionalField(t *testing.T) {
	// "a.0" over an array whose elements also have a field "0" is ambiguous, as in mongod.
	s := mustCompile(t, bson.D{{Key: "a.0.b", Value: int32(1)}})
	_, err := s.Key(bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "0", Value: int32(1)}}}}})
	require.True(t, mongoerr.HasCode(err, 16746), "%v", err)
}

func TestKeyValues(t *testing.T) {
	doc := func(v any) bson.D { return bson.D{{Key: "a", Value: v}} }
	for _, c := range []struct {
		path string
		desc bool
		doc  bson.D
		want any
	}{
		{"a", false, doc(bson.A{int32(3), int32(1), int32(2)}), int32(1)},
		{"a", true, doc(bson.A{int32(3), int32(1), int32(2)}), int32(3)},
		{"a", false, doc(bson.A{}), bson.Undefined{}},
		{"a", false, bson.D{}, nil},
		{"a.b", false, doc(int32(5)), nil},
		{"a.b", false, doc(bson.A{}), nil},
		{"a.b", true, doc(bson.A{int32(1), bson.D{{Key: "b", Value: int32(2)}}}), int32(2)},
		{"a.b", false, doc(bson.A{int32(1), bson.D{{Key: "b", Value: int32(2)}}}), nil},
		{"a.b", false, doc(bson.A{bson.A{bson.D{{Key: "b", Value: int32(2)}}}}), nil},
		{"a", false, doc(bson.A{bson.A{int32(1), int32(2)}, int32(7)}), int32(7)},
		{"a.1", false, doc(bson.A{bson.A{int32(9)}, bson.A{int32(4), int32(5)}}), bson.A{int32(4), int32(5)}},
		{"a.0.0", false, doc(bson.A{bson.A{int32(9), int32(8)}}), int32(9)},
		{"a.5", false, doc(bson.A{bson.D{{Key: "5", Value: "x"}}, int32(1)}), nil},
		{"a.5", true, doc(bson.A{bson.D{{Key: "5", Value: "x"}}, int32(1)}), "x"},
		{"a.01", false, doc(bson.A{int32(1), int32(2)}), nil},
	} {
		s := mustCompile(t, bson.D{{Key: c.path, Value: map[bool]int32{false: 1, true: -1}[c.desc]}})
		k, err := s.Key(c.doc)
		require.NoError(t, err)
		require.True(t, value.Equal(c.want, k.vals[0]) && value.TypeOf(c.want) == value.TypeOf(k.vals[0]),
			"%s %v over %v: got %v, want %v", c.path, c.desc, c.doc, k.vals[0], c.want)
	}
}

func TestCompareAndKeys(t *testing.T) {
	s := mustCompile(t, bson.D{{Key: "a", Value: int32(-1)}, {Key: "b", Value: int32(1)}})
	x := bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: "z"}}
	y := bson.D{{Key: "a", Value: 1.0}, {Key: "b", Value: "y"}}
	c, err := s.Compare(x, y)
	require.NoError(t, err)
	require.Equal(t, 1, c)
	c, err = s.Compare(y, y)
	require.NoError(t, err)
	require.Zero(t, c)
	require.Zero(t, s.CompareKeys(Key{}, Key{}))
	_, err = s.Compare(bson.D{{Key: "a", Value: bson.A{int32(1)}}, {Key: "b", Value: bson.A{int32(2)}}}, y)
	require.Error(t, err)
	_, err = s.Compare(y, bson.D{{Key: "a", Value: bson.A{int32(1)}}, {Key: "b", Value: bson.A{int32(2)}}})
	require.Error(t, err)
}

// TestTopKMatchesSort checks TopK and Top against a stable full sort on random documents
// with many ties.
func TestTopKMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	specs := []bson.D{
		{{Key: "a", Value: int32(1)}},
		{{Key: "a", Value: int32(-1)}},
		{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(-1)}},
		{{Key: "b.c", Value: int32(-1)}},
	}
	for round := 0; round < 200; round++ {
		n := r.IntN(30)
		docs := make([]bson.D, n)
		for i := range docs {
			var a any = int32(r.IntN(5))
			switch r.IntN(4) {
			case 0:
				a = bson.A{int32(r.IntN(5)), int32(r.IntN(5))}
			case 1:
				a = nil
			}
			docs[i] = bson.D{{Key: "_id", Value: int32(i)}, {Key: "a", Value: a},
				{Key: "b", Value: bson.D{{Key: "c", Value: float64(r.IntN(3))}}}}
		}
		s := mustCompile(t, specs[round%len(specs)])
		full := append([]bson.D(nil), docs...)
		require.NoError(t, SortDocs(full, s))
		for _, k := range []int{0, 1, 2, 5, n, n + 3} {
			top, err := TopK(docs, s, k)
			require.NoError(t, err)
			want := full
			if k > 0 && k < n {
				want = full[:k]
			}
			require.Equal(t, ids(want), ids(top), "round %d k %d", round, k)
		}
		all := NewTop(s, 0)
		for _, d := range docs {
			require.NoError(t, all.Push(d))
		}
		require.Equal(t, ids(full), ids(all.Result()), "unbounded Top")
		if n > 0 {
			tp := NewTop(s, 3)
			for _, d := range docs {
				require.NoError(t, tp.Push(d))
			}
			require.Equal(t, min(n, 3), tp.Len())
			require.Equal(t, ids(full[:min(n, 3)]), ids(tp.Result()))
		}
	}
}

func BenchmarkSortDocsScalar(b *testing.B) {
	s := mustCompile(b, bson.D{{Key: "a", Value: int32(1)}, {Key: "b.c", Value: int32(-1)}})
	r := rand.New(rand.NewPCG(1, 2))
	docs := make([]bson.D, 10000)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: int32(i)}, {Key: "a", Value: int32(r.IntN(100))},
			{Key: "b", Value: bson.D{{Key: "c", Value: r.Float64()}}}}
	}
	work := make([]bson.D, len(docs))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, docs)
		if err := SortDocs(work, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSortDocsArrays(b *testing.B) {
	s := mustCompile(b, bson.D{{Key: "a.x", Value: int32(1)}})
	r := rand.New(rand.NewPCG(1, 2))
	docs := make([]bson.D, 10000)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: int32(i)}, {Key: "a", Value: bson.A{
			bson.D{{Key: "x", Value: int32(r.IntN(100))}}, bson.D{{Key: "x", Value: int32(r.IntN(100))}}}}}
	}
	work := make([]bson.D, len(docs))
	b.ReportAllocs()
	for b.Loop() {
		copy(work, docs)
		if err := SortDocs(work, s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTopK(b *testing.B) {
	s := mustCompile(b, bson.D{{Key: "a", Value: int32(-1)}})
	r := rand.New(rand.NewPCG(1, 2))
	docs := make([]bson.D, 10000)
	for i := range docs {
		docs[i] = bson.D{{Key: "_id", Value: int32(i)}, {Key: "a", Value: r.Float64()}}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := TopK(docs, s, 10); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzSorter checks that no specification or document makes Compile or Key panic.
func FuzzSorter(f *testing.F) {
	doc := bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "b", Value: bson.A{int32(1), int32(2)}}}, bson.A{int32(3)}, bson.A{}}},
		{Key: "c", Value: bson.D{{Key: "0", Value: int32(1)}}}}
	for _, s := range []bson.D{
		{{Key: "a", Value: int32(1)}}, {{Key: "a.b", Value: int32(-1)}, {Key: "c", Value: int32(1)}},
		{{Key: "a.0.b", Value: int32(1)}}, {{Key: "a.1.0", Value: int32(-1)}}, {{Key: "a.b", Value: int32(1)}, {Key: "a", Value: int32(1)}},
	} {
		f.Add(value.MustEncode(s), value.MustEncode(doc))
	}
	f.Fuzz(func(t *testing.T, specBytes, docBytes []byte) {
		spec, err := value.Decode(specBytes)
		if err != nil {
			return
		}
		in, err := value.Decode(docBytes)
		if err != nil {
			return
		}
		s, err := Compile(spec)
		if err != nil {
			return
		}
		_, _ = s.Key(in)
	})
}
