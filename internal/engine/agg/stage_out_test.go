package agg

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ex parses relaxed extended JSON into a value, for compact test data.
func miscJSON(t testing.TB, s string) any {
	t.Helper()
	var d bson.D
	require.NoError(t, bson.UnmarshalExtJSON([]byte(`{"v": `+s+`}`), false, &d))
	return d[0].Value
}

func miscDocs(t testing.TB, s string) []bson.D {
	t.Helper()
	arr := miscJSON(t, s).(bson.A)
	out := make([]bson.D, len(arr))
	for i, d := range arr {
		out[i] = d.(bson.D)
	}
	return out
}

func miscFill(t testing.TB, s *storage.Store, db, name string, docs []bson.D, indexes ...storage.IndexSpec) *storage.Collection {
	t.Helper()
	c, _, err := s.Ensure(db, name)
	require.NoError(t, err)
	require.NoError(t, c.Write(func(tx *storage.Tx) error {
		for _, ix := range indexes {
			if _, err := tx.CreateIndex(ix); err != nil {
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

// runWriter runs head followed by the writing stage over db.c.
func miscWrite(t *testing.T, s *storage.Store, head string, writer string) error {
	t.Helper()
	p := withWriter(t, miscJSON(t, head).(bson.A), miscJSON(t, writer).(bson.D))
	out, err := Collect(p.Run(miscCtx(s), s.Collection("db", "c")))
	require.Empty(t, out, "writers output nothing")
	return err
}

func miscContent(t *testing.T, s *storage.Store, db, coll, want string) {
	t.Helper()
	got := miscArray(miscRead(t, s, db, coll))
	require.Truef(t, conformance.Same(miscJSON(t, want), got), "want %s\n got %s", want, conformance.Show(got))
}

func miscTmpColls(s *storage.Store, db string) []string {
	var names []string
	for _, c := range s.Collections(db) {
		if strings.HasPrefix(c.Name(), "tmp.agg_out.") {
			names = append(names, c.Name())
		}
	}
	return names
}

func TestOutWritesNewCollection(t *testing.T) {
	s, _ := miscStore(t, miscDocs(t, `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}, {"_id": 3, "a": 3}]`)...)
	require.NoError(t, miscWrite(t, s, `[{"$match": {"a": {"$gte": 2}}}, {"$project": {"b": {"$multiply": ["$a", 10]}}}]`, `{"$out": "o"}`))
	miscContent(t, s, "db", "o", `[{"_id": 2, "b": 20}, {"_id": 3, "b": 30}]`)
	require.Empty(t, miscTmpColls(s, "db"))
}

func TestOutReplacesContentKeepsIndexesAndOptions(t *testing.T) {
	s, _ := miscStore(t, miscDocs(t, `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}]`)...)
	validator := bson.D{{Key: "validator", Value: miscJSON(t, `{"a": {"$type": "int"}}`)}}
	target, err := s.Create("db", "o", validator)
	require.NoError(t, err)
	miscFill(t, s, "db", "o", miscDocs(t, `[{"_id": 9, "a": 9}]`), storage.IndexSpec{Key: bson.D{{Key: "a", Value: int32(1)}}, Unique: true})
	_, oldUUID := target.Info()

	require.NoError(t, miscWrite(t, s, `[]`, `{"$out": "o"}`))
	miscContent(t, s, "db", "o", `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}]`)
	o := s.Collection("db", "o")
	opts, uuid := o.Info()
	require.True(t, conformance.Same(validator, opts), "options kept: %v", opts)
	require.NotEqual(t, oldUUID, uuid, "the target is a new collection, as in mongod")
	require.NoError(t, o.Read(func(tx *storage.Tx) error {
		specs := tx.Indexes()
		require.Len(t, specs, 2)
		require.Equal(t, "a_1", specs[1].Name)
		require.True(t, specs[1].Unique)
		return nil
	}))

	// The kept validator applies to the new content: a failing document aborts the $out.
	err = miscWrite(t, s, `[{"$set": {"a": "text"}}]`, `{"$out": "o"}`)
	require.True(t, mongoerr.HasCode(err, mongoerr.DocumentValidationFailure), "%v", err)
	miscContent(t, s, "db", "o", `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}]`)
}

func TestOutFailureLeavesTargetUntouched(t *testing.T) {
	s, _ := miscStore(t, miscDocs(t, `[{"_id": 1, "k": "x"}, {"_id": 2, "k": "x"}, {"_id": 3, "k": "y"}]`)...)
	miscFill(t, s, "db", "o", miscDocs(t, `[{"_id": "old"}]`))
	// Two results with the same _id: a duplicate key in the new content.
	err := miscWrite(t, s, `[{"$project": {"_id": "$k"}}]`, `{"$out": "o"}`)
	require.True(t, mongoerr.HasCode(err, mongoerr.DuplicateKey), "%v", err)
	miscContent(t, s, "db", "o", `[{"_id": "old"}]`)
	require.Empty(t, miscTmpColls(s, "db"), "the temporary collection is dropped")

	// A unique index of the target is enforced on the new content too.
	miscFill(t, s, "db", "u", nil, storage.IndexSpec{Key: bson.D{{Key: "k", Value: int32(1)}}, Unique: true})
	err = miscWrite(t, s, `[]`, `{"$out": "u"}`)
	require.True(t, mongoerr.HasCode(err, mongoerr.DuplicateKey), "%v", err)
	require.Empty(t, miscRead(t, s, "db", "u"))

	// An error in the pipeline writes nothing either.
	err = miscWrite(t, s, `[{"$set": {"z": {"$toInt": "$k"}}}]`, `{"$out": "o"}`)
	require.Error(t, err)
	miscContent(t, s, "db", "o", `[{"_id": "old"}]`)
}

func TestOutEdgeCases(t *testing.T) {
	s, c := miscStore(t, miscDocs(t, `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}]`)...)
	// No results: the target exists, empty (an existing one is emptied).
	require.NoError(t, miscWrite(t, s, `[{"$match": {"a": 99}}]`, `{"$out": "empty"}`))
	require.NotNil(t, s.Collection("db", "empty"))
	require.Empty(t, miscRead(t, s, "db", "empty"))

	// Results without _id get one.
	require.NoError(t, miscWrite(t, s, `[{"$project": {"_id": 0, "a": 1}}]`, `{"$out": "noid"}`))
	for _, d := range miscRead(t, s, "db", "noid") {
		require.Equal(t, "_id", d[0].Key)
		require.IsType(t, bson.ObjectID{}, d[0].Value)
	}

	// Another database.
	require.NoError(t, miscWrite(t, s, `[]`, `{"$out": {"db": "other", "coll": "copy"}}`))
	miscContent(t, s, "other", "copy", `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}]`)

	// The collection being read.
	require.NoError(t, miscWrite(t, s, `[{"$set": {"a": {"$add": ["$a", 100]}}}]`, `{"$out": "c"}`))
	miscContent(t, s, "db", "c", `[{"_id": 1, "a": 101}, {"_id": 2, "a": 102}]`)
	require.NotSame(t, c, s.Collection("db", "c"))

	// A capped target is refused.
	_, err := s.Create("db", "capped", bson.D{{Key: "capped", Value: true}, {Key: "size", Value: int32(1000)}})
	require.NoError(t, err)
	err = miscWrite(t, s, `[]`, `{"$out": "capped"}`)
	require.True(t, mongoerr.HasCode(err, 17152), "%v", err)

	// Not a writing context.
	p := withWriter(t, bson.A{}, miscJSON(t, `{"$out": "x"}`).(bson.D))
	_, err = Collect(p.RunOn(&Context{}, []bson.D{{{Key: "_id", Value: int32(1)}}}))
	require.Error(t, err)
}

// TestOutIsAtomicForReaders replaces a collection repeatedly while readers count it:
// every read sees the old content or the new one, never a mix.
func TestOutIsAtomicForReaders(t *testing.T) {
	var src []bson.D
	for i := range 300 {
		src = append(src, bson.D{{Key: "_id", Value: int32(i)}})
	}
	s, _ := miscStore(t, src...)
	var old []bson.D
	for i := range 100 {
		old = append(old, bson.D{{Key: "_id", Value: int32(i)}})
	}
	miscFill(t, s, "db", "o", old)
	var stop atomic.Bool
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				n, _, _ := s.Collection("db", "o").Stats()
				if n != 100 && n != 300 {
					bad.Add(1)
				}
			}
		}()
	}
	for i := range 20 {
		head := `[]`
		if i%2 == 1 {
			head = `[{"$match": {"_id": {"$lt": 100}}}]`
		}
		require.NoError(t, miscWrite(t, s, head, `{"$out": "o"}`))
	}
	stop.Store(true)
	wg.Wait()
	require.Zero(t, bad.Load(), "a reader saw a partial $out")
}

func TestOutParse(t *testing.T) {
	for spec, code := range map[string]int32{
		`{"$out": {"coll": "x"}}`:          40414,
		`{"$out": {"db": "db"}}`:           40414,
		`{"$out": {"db": 1, "coll": "x"}}`: mongoerr.TypeMismatch,
		`{"$out": {"db": "db", "coll": "x", "timeseries": {"timeField": "t"}}}`: mongoerr.NotImplemented,
		`{"$out": "a$b"}`:                         mongoerr.InvalidNamespace,
		`{"$out": {"db": "a.b", "coll": "x"}}`:    mongoerr.InvalidNamespace,
		`{"$out": {"db": "config", "coll": "x"}}`: 31321,
	} {
		_, err := Compile(bson.A{miscJSON(t, spec)}, Options{DB: "db"})
		require.Truef(t, mongoerr.HasCode(err, code), "%s: want %d, got %v", spec, code, err)
	}
	_, err := parseOut("x", &Options{DB: "db", Nested: true})
	require.Error(t, err, "a sub-pipeline cannot write")
}

func TestMergeModes(t *testing.T) {
	const src = `[{"_id": 1, "b": 10, "a": 1}, {"_id": 2, "a": 2}]`
	const target = `[{"_id": 1, "x": "keep", "a": 0}, {"_id": 3, "a": 3}]`
	for _, c := range []struct {
		spec, want string
		code       int32
	}{
		// merge: $set semantics, existing fields stay, new ones are appended.
		{`{"into": "t"}`, `[{"_id": 1, "x": "keep", "a": 1, "b": 10}, {"_id": 3, "a": 3}, {"_id": 2, "a": 2}]`, 0},
		{`{"into": "t", "whenMatched": "replace"}`, `[{"_id": 1, "b": 10, "a": 1}, {"_id": 3, "a": 3}, {"_id": 2, "a": 2}]`, 0},
		{`{"into": "t", "whenMatched": "replace", "whenNotMatched": "discard"}`, `[{"_id": 1, "b": 10, "a": 1}, {"_id": 3, "a": 3}]`, 0},
		{`{"into": "t", "whenMatched": "keepExisting"}`, `[{"_id": 1, "x": "keep", "a": 0}, {"_id": 3, "a": 3}, {"_id": 2, "a": 2}]`, 0},
		{`{"into": "t", "whenMatched": "merge", "whenNotMatched": "discard"}`, `[{"_id": 1, "x": "keep", "a": 1, "b": 10}, {"_id": 3, "a": 3}]`, 0},
		// whenNotMatched fail: the matching document is still updated, then the error.
		{`{"into": "t", "whenNotMatched": "fail"}`, `[{"_id": 1, "x": "keep", "a": 1, "b": 10}, {"_id": 3, "a": 3}]`, 13113},
		// whenMatched fail: plain inserts; as in mongod's unordered writes, the others
		// still happen and the conflict is reported.
		{`{"into": "t", "whenMatched": "fail"}`, `[{"_id": 1, "x": "keep", "a": 0}, {"_id": 3, "a": 3}, {"_id": 2, "a": 2}]`, mongoerr.DuplicateKey},
		{`{"into": "t", "whenMatched": [{"$set": {"sum": {"$add": ["$a", "$$new.a"]}, "was": "$x"}}]}`,
			`[{"_id": 1, "x": "keep", "a": 0, "sum": 1, "was": "keep"}, {"_id": 3, "a": 3}, {"_id": 2, "a": 2}]`, 0},
		{`{"into": "t", "whenMatched": [{"$replaceWith": "$$new"}], "whenNotMatched": "discard"}`,
			`[{"_id": 1, "b": 10, "a": 1}, {"_id": 3, "a": 3}]`, 0},
		{`{"into": "t", "let": {"v": {"$multiply": ["$a", 100]}}, "whenMatched": [{"$set": {"v": "$$v"}}], "whenNotMatched": "discard"}`,
			`[{"_id": 1, "x": "keep", "a": 0, "v": 100}, {"_id": 3, "a": 3}]`, 0},
	} {
		t.Run(c.spec, func(t *testing.T) {
			s, _ := miscStore(t, miscDocs(t, src)...)
			miscFill(t, s, "db", "t", miscDocs(t, target))
			err := miscWrite(t, s, `[]`, `{"$merge": `+c.spec+`}`)
			if c.code != 0 {
				require.Truef(t, mongoerr.HasCode(err, c.code), "want %d, got %v", c.code, err)
			} else {
				require.NoError(t, err)
			}
			miscContent(t, s, "db", "t", c.want)
		})
	}
}

func TestMergeUpsertFieldOrder(t *testing.T) {
	// Unmatched results are upserted by the update mongod issues: with merge the new
	// document is the "on" fields, then $set's fields in field-name order; keepExisting
	// ($setOnInsert) likewise; replace and pipelines insert the result as it is.
	for mode, want := range map[string]string{
		`"merge"`:              `[{"_id": 1, "a": 2, "z": 1}]`,
		`"keepExisting"`:       `[{"_id": 1, "a": 2, "z": 1}]`,
		`"replace"`:            `[{"_id": 1, "z": 1, "a": 2}]`,
		`[{"$set": {"q": 1}}]`: `[{"_id": 1, "z": 1, "a": 2}]`,
	} {
		s, _ := miscStore(t, miscDocs(t, `[{"_id": 1, "z": 1, "a": 2}]`)...)
		require.NoError(t, miscWrite(t, s, `[]`, `{"$merge": {"into": "t", "whenMatched": `+mode+`}}`))
		miscContent(t, s, "db", "t", want)
	}
}

func TestMergeOnFields(t *testing.T) {
	unique := storage.IndexSpec{Key: bson.D{{Key: "k", Value: int32(1)}, {Key: "n.x", Value: int32(1)}}, Unique: true}
	newStore := func() *storage.Store {
		s, _ := miscStore(t, miscDocs(t, `[{"_id": 10, "k": "a", "n": {"x": 1}, "v": 1}, {"_id": 11, "k": "b", "n": {"x": 1}, "v": 2}]`)...)
		miscFill(t, s, "db", "t", miscDocs(t, `[{"_id": 1, "k": "a", "n": {"x": 1}, "old": true}]`), unique)
		return s
	}
	// Results without _id replace the match and keep its _id; unmatched ones get a new _id.
	s := newStore()
	require.NoError(t, miscWrite(t, s, `[{"$project": {"_id": 0}}]`, `{"$merge": {"into": "t", "on": ["n.x", "k"], "whenMatched": "replace"}}`))
	got := miscRead(t, s, "db", "t")
	require.Len(t, got, 2)
	require.True(t, conformance.Same(miscJSON(t, `{"_id": 1, "k": "a", "n": {"x": 1}, "v": 1}`), got[0]), "%v", got[0])
	require.IsType(t, bson.ObjectID{}, got[1][0].Value)

	// A result whose _id differs from the matching document's is an error (66).
	s = newStore()
	err := miscWrite(t, s, `[]`, `{"$merge": {"into": "t", "on": ["k", "n.x"]}}`)
	require.True(t, mongoerr.HasCode(err, mongoerr.ImmutableField), "%v", err)
	require.Contains(t, mongoerr.From(err).Message, "did you attempt to modify the _id field?")

	// Missing, null or array "on" values are refused.
	for head, code := range map[string]int32{
		`[{"$unset": "k"}]`:             51132,
		`[{"$set": {"k": null}}]`:       51132,
		`[{"$set": {"k": [1]}}]`:        51185,
		`[{"$set": {"n": [{"x": 1}]}}]`: 51132,
	} {
		s = newStore()
		err := miscWrite(t, s, head, `{"$merge": {"into": "t", "on": ["k", "n.x"]}}`)
		require.Truef(t, mongoerr.HasCode(err, code), "%s: want %d, got %v", head, code, err)
	}

	// The index must cover exactly the on fields and not be partial.
	s = newStore()
	err = miscWrite(t, s, `[]`, `{"$merge": {"into": "t", "on": "k"}}`)
	require.True(t, mongoerr.HasCode(err, 51183), "%v", err)
	miscFill(t, s, "db", "p", nil, storage.IndexSpec{Key: bson.D{{Key: "k", Value: int32(1)}}, Unique: true, PartialFilter: miscJSON(t, `{"k": {"$exists": true}}`).(bson.D)})
	err = miscWrite(t, s, `[]`, `{"$merge": {"into": "p", "on": "k"}}`)
	require.True(t, mongoerr.HasCode(err, 51183), "%v", err)
	miscFill(t, s, "db", "nu", nil, storage.IndexSpec{Key: bson.D{{Key: "k", Value: int32(1)}}})
	err = miscWrite(t, s, `[]`, `{"$merge": {"into": "nu", "on": "k"}}`)
	require.True(t, mongoerr.HasCode(err, 51183), "%v", err)
}

func TestMergeTargets(t *testing.T) {
	s, c := miscStore(t, miscDocs(t, `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}]`)...)
	// No results: the target is not created.
	require.NoError(t, miscWrite(t, s, `[{"$match": {"a": 99}}]`, `{"$merge": "none"}`))
	require.Nil(t, s.Collection("db", "none"))
	// Another database, created on first write.
	require.NoError(t, miscWrite(t, s, `[]`, `{"$merge": {"into": {"db": "other", "coll": "t"}}}`))
	miscContent(t, s, "other", "t", `[{"_id": 1, "a": 1}, {"_id": 2, "a": 2}]`)
	// The collection being read.
	require.NoError(t, miscWrite(t, s, `[{"$project": {"b": {"$add": ["$a", 1]}}}]`, `{"$merge": "c"}`))
	miscContent(t, s, "db", "c", `[{"_id": 1, "a": 1, "b": 2}, {"_id": 2, "a": 2, "b": 3}]`)
	require.Same(t, c, s.Collection("db", "c"))
	// Results without _id are inserted with a new one (on defaults to _id).
	require.NoError(t, miscWrite(t, s, `[{"$project": {"_id": 0, "a": 1}}]`, `{"$merge": "fresh"}`))
	for _, d := range miscRead(t, s, "db", "fresh") {
		require.IsType(t, bson.ObjectID{}, d[0].Value)
	}
	// A validator of the target applies.
	_, err := s.Create("db", "valid", bson.D{{Key: "validator", Value: miscJSON(t, `{"a": {"$type": "string"}}`)}})
	require.NoError(t, err)
	err = miscWrite(t, s, `[]`, `{"$merge": "valid"}`)
	require.True(t, mongoerr.HasCode(err, mongoerr.DocumentValidationFailure), "%v", err)
}

func TestMergeParse(t *testing.T) {
	for spec, code := range map[string]int32{
		`{"$merge": {"into": "t", "let": 1, "whenMatched": []}}`:                        mongoerr.TypeMismatch,
		`{"$merge": {"into": "t", "whenNotMatched": 1}}`:                                mongoerr.TypeMismatch,
		`{"$merge": {"into": "t", "whenMatched": [1]}}`:                                 mongoerr.TypeMismatch,
		`{"$merge": {"into": "t", "whenMatched": [{"$group": {"_id": null}}]}}`:         mongoerr.InvalidOptions,
		`{"$merge": {"into": "t", "whenMatched": [{"$set": {"a": "$$nope"}}]}}`:         17276,
		`{"$merge": {"into": "t", "let": {"Bad": 1}, "whenMatched": []}}`:               16867,
		`{"$merge": {"into": "t", "on": ""}}`:                                           40352,
		`{"$merge": {"into": "t", "on": "$a"}}`:                                         16410,
		`{"$merge": {"into": {"db": "", "coll": "a$b"}}}`:                               mongoerr.InvalidNamespace,
		`{"$merge": {"into": "t", "whenMatched": "fail", "whenNotMatched": "discard"}}`: 51181,
	} {
		_, err := Compile(bson.A{miscJSON(t, spec)}, Options{DB: "db"})
		require.Truef(t, mongoerr.HasCode(err, code), "%s: want %d, got %v", spec, code, err)
	}
	// Without let, a pipeline sees $$new; with let but no "new", only when it inserts.
	for spec, ok := range map[string]bool{
		`{"$merge": {"into": "t", "whenMatched": [{"$set": {"a": "$$new.a"}}]}}`:                                                        true,
		`{"$merge": {"into": "t", "let": {"x": 1}, "whenMatched": [{"$set": {"a": "$$new.a"}}]}}`:                                       true,
		`{"$merge": {"into": "t", "let": {"x": 1}, "whenMatched": [{"$set": {"a": "$$new.a"}}], "whenNotMatched": "discard"}}`:          false,
		`{"$merge": {"into": "t", "let": {"new": "$$ROOT"}, "whenMatched": [{"$set": {"a": "$$new.a"}}], "whenNotMatched": "discard"}}`: true,
	} {
		_, err := Compile(bson.A{miscJSON(t, spec)}, Options{DB: "db"})
		require.Equalf(t, ok, err == nil, "%s: %v", spec, err)
	}
	m, err := parseMerge(miscJSON(t, `{"into": {"coll": "t"}}`), &Options{DB: "here"})
	require.NoError(t, err)
	require.Equal(t, "here", m.(*mergeStage).db)
	_, err = parseMerge("t", &Options{DB: "db", Nested: true})
	require.Error(t, err)
	require.Equal(t, "$merge", m.(*mergeStage).name())
	require.True(t, value.IsMissing(lookupNoArrays(bson.D{{Key: "a", Value: int32(1)}}, []string{"a", "b"})))
}
