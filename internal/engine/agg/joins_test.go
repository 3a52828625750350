package agg_test

import (
	"math/rand/v2"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/agg"
	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func jdoc(kv ...any) bson.D {
	out := bson.D{}
	for i := 0; i < len(kv); i += 2 {
		out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return out
}

func joinRun(t *testing.T, s *storage.Store, coll *storage.Collection, pipeline bson.A, vars map[string]any) ([]bson.D, error) {
	t.Helper()
	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	p, err := agg.Compile(pipeline, agg.Options{DB: "db", Vars: names})
	if err != nil {
		return nil, err
	}
	return agg.Collect(p.Run(&agg.Context{Env: &expr.Env{Vars: vars}, Store: s, DB: "db"}, coll))
}

func joinRequireCode(t *testing.T, err error, code int32) {
	t.Helper()
	require.Error(t, err)
	require.Truef(t, mongoerr.HasCode(err, code), "want code %d, got %v", code, err)
}

// randomJoinValue draws values of every shape an equality join meets: numbers of each
// type, strings, null, missing, arrays (flat, nested, empty) and documents.
func randomJoinValue(r *rand.Rand, depth int) any {
	switch n := r.IntN(12); {
	case n < 3:
		return int32(r.IntN(4))
	case n == 3:
		return float64(r.IntN(4))
	case n == 4:
		return int64(r.IntN(4))
	case n == 5:
		return []string{"a", "b"}[r.IntN(2)]
	case n == 6:
		return nil
	case n == 7:
		return value.Missing
	case n == 8 && depth < 2:
		arr := bson.A{}
		for range r.IntN(3) {
			if v := randomJoinValue(r, depth+1); !value.IsMissing(v) {
				arr = append(arr, v)
			}
		}
		return arr
	case n == 9 && depth < 2:
		return jdoc("x", int32(r.IntN(3)))
	case n == 10:
		return bson.A{jdoc("x", int32(r.IntN(3))), jdoc("x", int32(r.IntN(3)))}
	}
	return int32(r.IntN(4))
}

func joinWithField(id int, name string, v any) bson.D {
	if value.IsMissing(v) {
		return jdoc("_id", int32(id))
	}
	return jdoc("_id", int32(id), name, v)
}

func joinLoad(t *testing.T, s *storage.Store, name string, docs []bson.D, index ...string) *storage.Collection {
	t.Helper()
	c, err := s.Create("db", name, nil)
	require.NoError(t, err)
	require.NoError(t, c.Write(func(tx *storage.Tx) error {
		for _, field := range index {
			if _, err := tx.CreateIndex(storage.IndexSpec{Key: jdoc(field, int32(1))}); err != nil {
				return err
			}
		}
		for _, d := range docs {
			d, raw, err := storage.PrepareDocument(d, nil)
			if err != nil {
				return err
			}
			if _, err := tx.Insert(d, raw, storage.WriteOptions{}); err != nil {
				return err
			}
		}
		return nil
	}))
	return c
}

// TestLookupIndexedJoinsMatchScans checks that joins answered through the foreign
// field's index return exactly what a scan of the foreign collection returns, for random
// documents of every value shape, in the equality form and in the let/pipeline form whose
// $expr equality the planner turns into an index lookup.
func TestLookupIndexedJoinsMatchScans(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 30 {
		var outer, foreign []bson.D
		for i := range 40 {
			outer = append(outer, joinWithField(i, "l", randomJoinValue(r, 0)))
		}
		for i := range 60 {
			foreign = append(foreign, joinWithField(i, "k", randomJoinValue(r, 0)))
		}
		plain, indexed := storage.New(), storage.New()
		plainOuter := joinLoad(t, plain, "outer", outer)
		joinLoad(t, plain, "foreign", foreign)
		indexedOuter := joinLoad(t, indexed, "outer", outer)
		joinLoad(t, indexed, "foreign", foreign, "k", "k.x")

		sorted := jdoc("$set", jdoc("m", jdoc("$sortArray", jdoc("input", "$m", "sortBy", jdoc("_id", int32(1))))))
		for _, pipeline := range []bson.A{
			{jdoc("$lookup", jdoc("from", "foreign", "localField", "l", "foreignField", "k", "as", "m")), sorted},
			{jdoc("$lookup", jdoc("from", "foreign", "localField", "l.x", "foreignField", "k.x", "as", "m")), sorted},
			{jdoc("$lookup", jdoc("from", "foreign", "localField", "l", "foreignField", "k.x", "as", "m")), sorted},
			{jdoc("$lookup", jdoc("from", "foreign", "let", jdoc("v", "$l"), "as", "m", "pipeline",
				bson.A{jdoc("$match", jdoc("$expr", jdoc("$eq", bson.A{"$k", "$$v"})))})), sorted},
			{jdoc("$lookup", jdoc("from", "foreign", "let", jdoc("v", "$l"), "as", "m", "pipeline",
				bson.A{jdoc("$match", jdoc("$expr", jdoc("$eq", bson.A{"$$v", "$k.x"})))})), sorted},
		} {
			want, err := joinRun(t, plain, plainOuter, pipeline, nil)
			require.NoError(t, err)
			got, err := joinRun(t, indexed, indexedOuter, pipeline, nil)
			require.NoError(t, err)
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Truef(t, conformance.Same(want[i], got[i]), "round %d, %v:\nscan:  %s\nindex: %s",
					round, pipeline[0], conformance.Show(want[i]), conformance.Show(got[i]))
			}
		}
	}
}

// TestGraphLookupIndexedMatchesScan checks the breadth-first search through an index on
// connectToField against a scan, on random graphs.
func TestGraphLookupIndexedMatchesScan(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		var nodes []bson.D
		for i := range 50 {
			var to bson.A
			for range r.IntN(3) {
				to = append(to, int32(r.IntN(60)))
			}
			nodes = append(nodes, jdoc("_id", int32(i), "name", int32(i%45), "to", to))
		}
		starts := []bson.D{jdoc("_id", int32(1), "s", int32(r.IntN(50))), jdoc("_id", int32(2), "s", bson.A{int32(r.IntN(50)), int32(r.IntN(50))})}
		plain, indexed := storage.New(), storage.New()
		po := joinLoad(t, plain, "outer", starts)
		joinLoad(t, plain, "nodes", nodes)
		io := joinLoad(t, indexed, "outer", starts)
		joinLoad(t, indexed, "nodes", nodes, "name")
		pipeline := bson.A{
			jdoc("$graphLookup", jdoc("from", "nodes", "startWith", "$s", "connectFromField", "to", "connectToField", "name", "as", "r", "depthField", "d", "maxDepth", int32(3))),
			jdoc("$set", jdoc("r", jdoc("$sortArray", jdoc("input", "$r", "sortBy", jdoc("_id", int32(1)))))),
		}
		want, err := joinRun(t, plain, po, pipeline, nil)
		require.NoError(t, err)
		got, err := joinRun(t, indexed, io, pipeline, nil)
		require.NoError(t, err)
		require.True(t, conformance.Same(joinDocsArray(want), joinDocsArray(got)), "scan %s\nindex %s", conformance.Show(joinDocsArray(want)), conformance.Show(joinDocsArray(got)))
	}
}

func joinDocsArray(docs []bson.D) bson.A {
	out := bson.A{}
	for _, d := range docs {
		out = append(out, d)
	}
	return out
}

func TestLookupSubPipelineSeesCommandVariables(t *testing.T) {
	s := storage.New()
	c := joinLoad(t, s, "c", []bson.D{jdoc("_id", int32(1), "a", int32(2))})
	joinLoad(t, s, "f", []bson.D{jdoc("_id", int32(9))})
	got, err := joinRun(t, s, c, bson.A{jdoc("$lookup", jdoc("from", "f", "let", jdoc("x", "$a", "gone", "$nope"), "as", "r", "pipeline", bson.A{
		jdoc("$project", jdoc("_id", int32(0), "cmd", "$$cv", "x", "$$x", "gone", "$$gone")),
	}))}, map[string]any{"cv": "command"})
	require.NoError(t, err)
	require.Equal(t, []bson.D{jdoc("_id", int32(1), "a", int32(2), "r", bson.A{jdoc("cmd", "command", "x", int32(2))})}, got)
}

func TestDocumentsRunsWithoutCollection(t *testing.T) {
	p, err := agg.Compile(bson.A{jdoc("$documents", bson.A{jdoc("a", int32(1)), jdoc("a", int32(2))}), jdoc("$match", jdoc("a", int32(2)))}, agg.Options{DB: "db"})
	require.NoError(t, err)
	require.True(t, p.RunsWithoutCollection())
	ctx := &agg.Context{Env: &expr.Env{}, Store: storage.New(), DB: "db"}
	got, err := agg.Collect(p.Run(ctx, nil))
	require.NoError(t, err)
	require.Equal(t, []bson.D{jdoc("a", int32(2))}, got)

	// On a collection, mongod refuses it.
	s := storage.New()
	c := joinLoad(t, s, "c", []bson.D{jdoc("_id", int32(1))})
	_, err = agg.Collect(p.Run(&agg.Context{Env: &expr.Env{}, Store: s, DB: "db"}, c))
	joinRequireCode(t, err, mongoerr.InvalidNamespace)

	// null and missing make no documents; another non-array value makes one.
	for spec, want := range map[string]struct {
		v any
		n int
	}{"null": {nil, 0}, "missing": {"$$REMOVE", 0}, "document expression": {jdoc("$mergeObjects", bson.A{jdoc("z", int32(1))}), 1}} {
		p, err := agg.Compile(bson.A{jdoc("$documents", want.v)}, agg.Options{})
		require.NoError(t, err, spec)
		got, err := agg.Collect(p.Run(ctx, nil))
		require.NoError(t, err, spec)
		require.Len(t, got, want.n, spec)
	}
}

func TestCompileErrorsOfSubPipelines(t *testing.T) {
	for _, tc := range []struct {
		name     string
		pipeline bson.A
		code     int32
	}{
		{"$lookup with from and $documents", bson.A{jdoc("$lookup", jdoc("from", "x", "pipeline", bson.A{jdoc("$documents", bson.A{})}, "as", "r"))}, mongoerr.InvalidNamespace},
		{"$unionWith with coll and $documents", bson.A{jdoc("$unionWith", jdoc("coll", "x", "pipeline", bson.A{jdoc("$documents", bson.A{})}))}, mongoerr.InvalidNamespace},
		{"$out in a $lookup inside $facet", bson.A{jdoc("$facet", jdoc("a", bson.A{jdoc("$lookup", jdoc("from", "x", "pipeline", bson.A{jdoc("$out", "y")}, "as", "r"))}))}, 51047},
		{"$documents in a $lookup inside $facet", bson.A{jdoc("$facet", jdoc("a", bson.A{jdoc("$lookup", jdoc("pipeline", bson.A{jdoc("$documents", bson.A{})}, "as", "r"))}))}, 40600},
		{"$facet in a $unionWith inside $facet", bson.A{jdoc("$facet", jdoc("a", bson.A{jdoc("$unionWith", jdoc("coll", "x", "pipeline", bson.A{jdoc("$facet", jdoc("b", bson.A{jdoc("$count", "n")}))}))}))}, 40600},
		{"$documents in $facet", bson.A{jdoc("$facet", jdoc("a", bson.A{jdoc("$documents", bson.A{})}))}, 40600},
		{"$merge in $unionWith", bson.A{jdoc("$unionWith", jdoc("coll", "x", "pipeline", bson.A{jdoc("$merge", "y")}))}, 31441},
		{"a malformed stage reports its own error before the restriction", bson.A{jdoc("$facet", jdoc("a", bson.A{jdoc("$facet", int32(1))}))}, 40169},
		{"$lookup let name", bson.A{jdoc("$lookup", jdoc("from", "x", "let", jdoc("a-b", int32(1)), "pipeline", bson.A{}, "as", "r"))}, 16868},
		{"$lookup empty let name", bson.A{jdoc("$lookup", jdoc("from", "x", "let", jdoc("", int32(1)), "pipeline", bson.A{}, "as", "r"))}, 16866},
		{"$lookup localField path", bson.A{jdoc("$lookup", jdoc("from", "x", "localField", "a..b", "foreignField", "b", "as", "r"))}, 15998},
		{"$lookup from document", bson.A{jdoc("$lookup", jdoc("from", jdoc("db", "a", "coll", "b"), "localField", "a", "foreignField", "b", "as", "r"))}, mongoerr.FailedToParse},
		{"$lookup pipeline element", bson.A{jdoc("$lookup", jdoc("from", "x", "pipeline", bson.A{int32(1)}, "as", "r"))}, mongoerr.TypeMismatch},
		{"$unionWith pipeline type", bson.A{jdoc("$unionWith", jdoc("coll", "x", "pipeline", int32(1)))}, mongoerr.TypeMismatch},
		{"$unionWith pipeline element", bson.A{jdoc("$unionWith", jdoc("coll", "x", "pipeline", bson.A{int32(1)}))}, mongoerr.TypeMismatch},
		{"$graphLookup depthField path", bson.A{jdoc("$graphLookup", jdoc("from", "x", "startWith", "$a", "connectFromField", "a", "connectToField", "b", "as", "r", "depthField", "$d"))}, 16410},
		{"$graphLookup restrictSearchWithMatch filter", bson.A{jdoc("$graphLookup", jdoc("from", "x", "startWith", "$a", "connectFromField", "a", "connectToField", "b", "as", "r", "restrictSearchWithMatch", jdoc("a", jdoc("$bogus", int32(1)))))}, mongoerr.BadValue},
		{"$graphLookup maxDepth fraction", bson.A{jdoc("$graphLookup", jdoc("from", "x", "startWith", "$a", "connectFromField", "a", "connectToField", "b", "as", "r", "maxDepth", 0.5))}, 40102},
		{"$redact expression", bson.A{jdoc("$redact", jdoc("$bogus", int32(1)))}, mongoerr.InvalidPipelineOperator},
		{"$sortByCount expression", bson.A{jdoc("$sortByCount", jdoc("$bogus", int32(1)))}, mongoerr.InvalidPipelineOperator},
		{"$unwind path", bson.A{jdoc("$unwind", "$a..b")}, 15998},
	} {
		_, err := agg.Compile(tc.pipeline, agg.Options{DB: "db"})
		joinRequireCode(t, err, tc.code)
	}
}

func TestUnsupportedStagesFailClearly(t *testing.T) {
	for name, code := range map[string]int32{
		"$search": mongoerr.SearchNotEnabled, "$searchMeta": mongoerr.SearchNotEnabled, "$vectorSearch": mongoerr.SearchNotEnabled,
		"$listSearchIndexes": mongoerr.SearchNotEnabled, "$geoNear": mongoerr.NotImplemented,
	} {
		_, err := agg.Compile(bson.A{jdoc(name, jdoc())}, agg.Options{})
		joinRequireCode(t, err, code)
		require.Contains(t, err.Error(), name)
	}
}

func TestRedactAcceptsTheVariablesAsStrings(t *testing.T) {
	s := storage.New()
	c := joinLoad(t, s, "c", []bson.D{jdoc("_id", int32(1), "a", jdoc("drop", true), "b", jdoc("x", int32(1)))})
	got, err := joinRun(t, s, c, bson.A{jdoc("$redact", jdoc("$cond", bson.A{jdoc("$eq", bson.A{"$drop", true}), "prune", "descend"}))}, nil)
	require.NoError(t, err)
	require.Equal(t, []bson.D{jdoc("_id", int32(1), "b", jdoc("x", int32(1)))}, got)
	got, err = joinRun(t, s, c, bson.A{jdoc("$redact", "keep")}, nil)
	require.NoError(t, err)
	require.Len(t, got, 1)
}

// TestGraphLookupNullStart: a null value matches documents whose connectToField is null,
// not documents that lack it (mongod adds $exists to its query for this).
func TestGraphLookupNullStart(t *testing.T) {
	s := storage.New()
	c := joinLoad(t, s, "c", []bson.D{jdoc("_id", int32(1), "s", nil)})
	joinLoad(t, s, "g", []bson.D{jdoc("_id", int32(1), "k", nil), jdoc("_id", int32(2)), jdoc("_id", int32(3), "k", int32(0))})
	got, err := joinRun(t, s, c, bson.A{jdoc("$graphLookup", jdoc("from", "g", "startWith", "$s", "connectFromField", "z", "connectToField", "k", "as", "r"))}, nil)
	require.NoError(t, err)
	require.Equal(t, []bson.D{jdoc("_id", int32(1), "s", nil, "r", bson.A{jdoc("_id", int32(1), "k", nil)})}, got)
}

// TestJoinStagesDoNotModifyTheirInput runs every stage of this family over stored
// records and checks the records are unchanged afterwards.
func TestJoinStagesDoNotModifyTheirInput(t *testing.T) {
	input := []bson.D{
		jdoc("_id", int32(1), "a", bson.A{int32(1), int32(2)}, "o", jdoc("a", bson.A{jdoc("h", true), jdoc("x", int32(1))}), "k", int32(1)),
		jdoc("_id", int32(2), "a", bson.A{}, "o", jdoc("a", int32(3)), "k", int32(2)),
	}
	s := storage.New()
	c := joinLoad(t, s, "c", input)
	f := joinLoad(t, s, "f", []bson.D{jdoc("_id", int32(1), "k", int32(1), "n", int32(2)), jdoc("_id", int32(2), "k", int32(2))})
	snapshot := func() []bson.D {
		var out []bson.D
		for _, coll := range []*storage.Collection{c, f} {
			require.NoError(t, coll.Read(func(tx *storage.Tx) error {
				tx.All(func(r *storage.Record) bool {
					out = append(out, value.CopyDoc(r.Doc))
					return true
				})
				return nil
			}))
		}
		return out
	}
	before := snapshot()
	for _, st := range []bson.D{
		jdoc("$unwind", jdoc("path", "$a", "includeArrayIndex", "o.i", "preserveNullAndEmptyArrays", true)),
		jdoc("$unwind", "$o.a"),
		jdoc("$lookup", jdoc("from", "f", "localField", "k", "foreignField", "k", "as", "o.m")),
		jdoc("$lookup", jdoc("from", "f", "let", jdoc("k", "$k"), "pipeline", bson.A{jdoc("$match", jdoc("$expr", jdoc("$eq", bson.A{"$k", "$$k"})))}, "as", "a")),
		jdoc("$graphLookup", jdoc("from", "f", "startWith", "$k", "connectFromField", "n", "connectToField", "k", "as", "o.g", "depthField", "n")),
		jdoc("$redact", jdoc("$cond", bson.A{jdoc("$eq", bson.A{"$h", true}), "$$PRUNE", "$$DESCEND"})),
		jdoc("$facet", jdoc("x", bson.A{jdoc("$unwind", "$a")}, "y", bson.A{jdoc("$set", jdoc("o.z", int32(1)))})),
		jdoc("$unionWith", jdoc("coll", "f", "pipeline", bson.A{jdoc("$set", jdoc("n", int32(0)))})),
		jdoc("$sortByCount", "$k"),
	} {
		_, err := joinRun(t, s, c, bson.A{st, jdoc("$set", jdoc("o.w", int32(1)))}, nil)
		require.NoError(t, err, "%v", st)
		require.Equal(t, before, snapshot(), "%v modified its input", st)
	}
}

// TestJoinStagesStopEarly: a consumer that stops (a $limit) ends each stage cleanly.
func TestJoinStagesStopEarly(t *testing.T) {
	s := storage.New()
	c := joinLoad(t, s, "c", []bson.D{jdoc("_id", int32(1), "a", bson.A{int32(1), int32(2)}, "k", int32(1)), jdoc("_id", int32(2), "a", bson.A{int32(3)}, "k", int32(1))})
	joinLoad(t, s, "f", []bson.D{jdoc("_id", int32(1), "k", int32(1))})
	for _, st := range []bson.D{
		jdoc("$unwind", "$a"),
		jdoc("$lookup", jdoc("from", "f", "localField", "k", "foreignField", "k", "as", "m")),
		jdoc("$graphLookup", jdoc("from", "f", "startWith", "$k", "connectFromField", "k", "connectToField", "k", "as", "m")),
		jdoc("$unionWith", "f"),
		jdoc("$unionWith", jdoc("pipeline", bson.A{jdoc("$documents", bson.A{jdoc("z", int32(1)), jdoc("z", int32(2))})})),
		jdoc("$redact", "$$DESCEND"),
		jdoc("$sortByCount", "$k"),
	} {
		for _, skip := range []int32{0, 1, 2} {
			pipeline := bson.A{st}
			if skip > 0 {
				pipeline = append(pipeline, jdoc("$skip", skip))
			}
			got, err := joinRun(t, s, c, append(pipeline, jdoc("$limit", int32(1))), nil)
			require.NoError(t, err, "%v", st)
			require.LessOrEqual(t, len(got), 1)
		}
	}
}

// TestLookupInsideFacetReadsTheStore: $facet runs over RunOn's documents too, and its
// sub-pipelines read collections from the context's store.
func TestLookupInsideFacetReadsTheStore(t *testing.T) {
	s := storage.New()
	joinLoad(t, s, "f", []bson.D{jdoc("_id", int32(1), "k", "a")})
	p, err := agg.Compile(bson.A{jdoc("$facet", jdoc("j", bson.A{jdoc("$lookup", jdoc("from", "f", "localField", "k", "foreignField", "k", "as", "m"))}))}, agg.Options{DB: "db"})
	require.NoError(t, err)
	got, err := agg.Collect(p.RunOn(&agg.Context{Env: &expr.Env{}, Store: s, DB: "db"}, []bson.D{jdoc("_id", int32(7), "k", "a")}))
	require.NoError(t, err)
	require.Equal(t, []bson.D{jdoc("j", bson.A{jdoc("_id", int32(7), "k", "a", "m", bson.A{jdoc("_id", int32(1), "k", "a")})})}, got)
}
