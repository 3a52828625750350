package match

import (
	"errors"
	"sync"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ext parses relaxed extended JSON into a document.
func ext(t testing.TB, s string) bson.D {
	t.Helper()
	var d bson.D
	require.NoError(t, bson.UnmarshalExtJSON([]byte(s), false, &d), s)
	return d
}

// extValue parses the value of {"v": …}.
func extValue(t testing.TB, s string) any {
	t.Helper()
	return ext(t, `{"v": `+s+`}`)[0].Value
}

func requireCode(t testing.TB, err error, code int32) {
	t.Helper()
	require.Error(t, err)
	var me *mongoerr.Error
	require.True(t, errors.As(err, &me), "not a mongoerr.Error: %v", err)
	require.Equal(t, code, me.Code, "%v", err)
}

func TestMatchPosition(t *testing.T) {
	cases := []struct {
		filter, doc string
		matched     bool
		pos         int
	}{
		{`{"a": 2}`, `{"a": [1, 2, 3]}`, true, 1},
		{`{"a": 5}`, `{"a": 5}`, true, -1},
		{`{"a": 9}`, `{"a": [1, 2]}`, false, -1},
		{`{}`, `{"a": [1]}`, true, -1},
		{`{"a.b": 2}`, `{"a": [{"b": 1}, {"b": 2}]}`, true, 1},
		// The outermost array's position wins.
		{`{"a.b": 2}`, `{"a": [{"b": [1, 2]}]}`, true, 0},
		{`{"a.b": 2}`, `{"a": [{"b": 0}, {"b": [1, 2]}]}`, true, 1},
		{`{"a": {"$elemMatch": {"x": 1}}}`, `{"a": [{"x": 0}, {"x": 1}]}`, true, 1},
		{`{"a": {"$elemMatch": {"$gt": 1}}}`, `{"a": [0, 5]}`, true, 1},
		// An $elemMatch under an implicitly traversed array reports the outer position.
		{`{"a.b": {"$elemMatch": {"$gt": 1}}}`, `{"a": [{"b": [0]}, {"b": [0, 5]}]}`, true, 1},
		// A whole-array match involves no element.
		{`{"a": [1, 2]}`, `{"a": [1, 2]}`, true, -1},
		{`{"a": [1, 2]}`, `{"a": [0, [1, 2]]}`, true, 1},
		// An explicit position is not an implicit traversal.
		{`{"a.1": 20}`, `{"a": [10, 20]}`, true, -1},
		{`{"a.0.b": 1}`, `{"a": [[{"b": 0}, {"b": 1}]]}`, true, 1},
		{`{"a.1.b": 2}`, `{"a": [{"b": 1}, {"b": 2}]}`, true, -1},
		// Later conditions override earlier positions; conditions without arrays keep them.
		{`{"a": 1, "b": 2}`, `{"a": [1], "b": [0, 2]}`, true, 1},
		{`{"a": 1, "b": 5}`, `{"a": [0, 1], "b": 5}`, true, 1},
		{`{"a": {"$gt": 1, "$lt": 3}}`, `{"a": [5, 2]}`, true, 1},
		{`{"a": {"$all": [2, 3]}}`, `{"a": [1, 2, 3]}`, true, 2},
		{`{"$and": [{"a": 2}]}`, `{"a": [1, 2]}`, true, 1},
		// $or, $nor and negations record nothing.
		{`{"$or": [{"a": 2}, {"b": 1}]}`, `{"a": [1, 2]}`, true, -1},
		{`{"$or": [{"a": 2}]}`, `{"a": [1, 2]}`, true, 1}, // a one-clause $or is its clause
		{`{"a": {"$ne": 1}}`, `{"a": [2]}`, true, -1},
		{`{"a": {"$not": {"$gt": 5}}}`, `{"a": [2]}`, true, -1},
		{`{"a": {"$size": 2}}`, `{"a": [2, 3]}`, true, -1},
		{`{"a": {"$exists": true}}`, `{"a": [2, 3]}`, true, 0},
	}
	for _, c := range cases {
		m, err := Compile(ext(t, c.filter), nil)
		require.NoError(t, err, c.filter)
		ok, pos, err := m.MatchPosition(ext(t, c.doc), nil)
		require.NoError(t, err)
		assert.Equal(t, c.matched, ok, "%s on %s", c.filter, c.doc)
		assert.Equal(t, c.pos, pos, "%s on %s", c.filter, c.doc)
		ok2, err := m.Match(ext(t, c.doc), nil)
		require.NoError(t, err)
		assert.Equal(t, ok, ok2)
	}
}

func TestCompileElement(t *testing.T) {
	cases := []struct {
		cond  string
		value string
		want  bool
	}{
		{`{"$gte": 5}`, `6`, true},
		{`{"$gte": 5}`, `4`, false},
		{`{"$gte": 5}`, `"x"`, false},
		{`{"$gte": 5}`, `[1, 6]`, true}, // an array value is tested element by element
		{`{"$gte": 5, "$lt": 7}`, `6.5`, true},
		{`{"$in": [1, 2]}`, `2`, true},
		{`{"$ne": 1}`, `[1, 2]`, false},
		{`{"$size": 2}`, `[1, 2]`, true},
		{`{"$elemMatch": {"$gt": 1}}`, `[0, 2]`, true},
		{`{"$regex": "^a"}`, `"ab"`, true},
		{`{"$exists": true}`, `null`, true},
		{`{"$regularExpression": {"pattern": "^a", "options": ""}}`, `"ab"`, true},
		{`{"$regularExpression": {"pattern": "^a", "options": ""}}`, `["x", "ab"]`, true},
		{`{"$regularExpression": {"pattern": "^a", "options": ""}}`, `"b"`, false},
		// Other documents are queries on document values.
		{`{"x": 1}`, `{"x": 1, "y": 2}`, true},
		{`{"x": 1}`, `{"y": 2, "x": 1}`, true},
		{`{"x": 1}`, `{"x": 2}`, false},
		{`{"x": 1}`, `1`, false},
		{`{"x": 1}`, `[{"x": 1}]`, false},
		{`{"x": {"$gt": 1}, "y": 1}`, `{"x": 2, "y": 1}`, true},
		{`{"$and": [{"x": 1}]}`, `{"x": 1}`, true},
		{`{}`, `{"x": 1}`, true},
		{`{}`, `1`, false},
		// Anything else is equality of the whole value.
		{`5`, `5.0`, true},
		{`5`, `[5]`, false},
		{`5`, `"5"`, false},
		{`[1, 2]`, `[1, 2]`, true},
		{`[1, 2]`, `[2, 1]`, false},
		{`null`, `null`, true},
		{`"a"`, `"a"`, true},
	}
	for _, c := range cases {
		m, err := CompileElement(extValue(t, c.cond), nil)
		require.NoError(t, err, c.cond)
		got, err := m.MatchValue(extValue(t, c.value), nil)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%s on %s", c.cond, c.value)
	}

	_, err := CompileElement(extValue(t, `{"$gt": {"$regularExpression": {"pattern": "a", "options": ""}}}`), nil)
	requireCode(t, err, mongoerr.BadValue)
	_, err = CompileElement(extValue(t, `{"$not": {"x": 1}}`), nil)
	requireCode(t, err, mongoerr.BadValue)
	_, err = CompileElement(extValue(t, `{"$regularExpression": {"pattern": "(", "options": ""}}`), nil)
	requireCode(t, err, codeRegexInvalid)
}

func TestExprVariables(t *testing.T) {
	filter := ext(t, `{"$expr": {"$eq": ["$x", "$$v"]}}`)
	m, err := Compile(filter, &Options{Vars: []string{"v"}})
	require.NoError(t, err)
	env := &expr.Env{Vars: map[string]any{"v": int32(3)}}
	ok, err := m.Match(ext(t, `{"x": 3}`), env)
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = m.Match(ext(t, `{"x": 4}`), env)
	require.NoError(t, err)
	assert.False(t, ok)

	// Without the declaration the variable is undefined.
	_, err = Compile(filter, nil)
	requireCode(t, err, 17276)

	em, err := CompileElement(extValue(t, `{"$expr": {"$eq": ["$x", "$$v"]}}`), &Options{Vars: []string{"v"}})
	require.NoError(t, err)
	ok, err = em.MatchValue(ext(t, `{"x": 3}`), env)
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestExprRuntimeError(t *testing.T) {
	m, err := Compile(ext(t, `{"$expr": {"$add": ["$a", "x"]}}`), nil)
	require.NoError(t, err)
	_, err = m.Match(ext(t, `{"a": 1}`), nil)
	require.Error(t, err)
	_, _, err = m.MatchPosition(ext(t, `{"a": 1}`), nil)
	require.Error(t, err)
	// Short-circuiting: the failing $expr is not evaluated.
	m, err = Compile(ext(t, `{"a": 2, "$expr": {"$add": ["$a", "x"]}}`), nil)
	require.NoError(t, err)
	ok, err := m.Match(ext(t, `{"a": 1}`), nil)
	require.NoError(t, err)
	assert.False(t, ok)
}

func TestEmptyAndNil(t *testing.T) {
	m, err := Compile(nil, nil)
	require.NoError(t, err)
	assert.True(t, m.IsEmpty())
	ok, err := m.Match(bson.D{}, nil)
	require.NoError(t, err)
	assert.True(t, ok)
	var nilMatcher *Matcher
	ok, err = nilMatcher.Match(bson.D{}, nil)
	require.NoError(t, err)
	assert.True(t, ok)
	m, err = Compile(ext(t, `{"a": 1}`), nil)
	require.NoError(t, err)
	assert.False(t, m.IsEmpty())
}

func TestUnsupportedOperators(t *testing.T) {
	for _, f := range []string{
		`{"$where": "this.a == 1"}`,
		`{"a": {"$near": [0, 0]}}`,
		`{"a": {"$nearSphere": {"$geometry": {"type": "Point", "coordinates": [0, 0]}}}}`,
		`{"a": {"$geoWithin": {"$centerSphere": [[0, 0], 1]}}}`,
		`{"a": {"$geoIntersects": {"$geometry": {"type": "Point", "coordinates": [0, 0]}}}}`,
		`{"a": {"$_internalSchemaMinItems": 1}}`,
		`{"$_internalSchemaMinProperties": 1}`,
		`{"$jsonSchema": {"properties": {"a": {"encrypt": {}}}}}`,
	} {
		_, err := Compile(ext(t, f), nil)
		requireCode(t, err, mongoerr.NotImplemented)
	}
}

func TestErrorMessages(t *testing.T) {
	cases := []struct{ filter, msg string }{
		{`{"$foo": 1}`, "unknown top level operator: $foo. If you have a field name that starts with a '$' symbol, consider using $getField or $setField."},
		{`{"$not": {"a": 1}}`, "unknown top level operator: $not. If you are trying to negate an entire expression, use $nor."},
		{`{"a": {"$foo": 1}}`, "unknown operator: $foo"},
		{`{"$and": 1}`, "$and must be an array"},
		{`{"$or": []}`, "$and/$or/$nor must be a nonempty array"},
		{`{"$nor": [1]}`, "$or/$and/$nor entries need to be full objects"},
		{`{"a": {"$size": -1}}`, "Failed to parse $size. Expected a non-negative number in: $size: -1"},
		{`{"a": {"$bitsAllSet": -1.0}}`, "Expected a non-negative number in: $bitsAllSet: -1.0"},
		{`{"a": {"$bitsAllSet": 1.2}}`, "Expected an integer: $bitsAllSet: 1.2"},
		{`{"a": {"$bitsAllSet": [-1]}}`, "Failed to parse bit position. Expected a non-negative number in: 0: -1"},
		{`{"a": {"$bitsAllSet": ["123"]}}`, `Failed to parse bit position. Expected a number in: 0: "123"`},
		{`{"a": {"$bitsAllSet": "123"}}`, `a takes an Array, a number, or a BinData but received: $bitsAllSet: "123"`},
		{`{"a": {"$mod": [0, 1]}}`, "divisor cannot be 0"},
		{`{"a": {"$regex": "a", "$options": "g"}}`, " invalid flag in regex options: g"},
		{`{"a": {"$gt": {"$regularExpression": {"pattern": "a", "options": ""}}}}`, "Can't have RegEx as arg to predicate over field 'a'."},
		{`{"a": {"$type": 0}}`, "Invalid numerical type code: 0. Instead use {$exists:false}."},
		{`{"a": {"$type": 2.5}}`, "Invalid numerical type code: 2.5"},
		{`{"a": {"$type": []}}`, "a must match at least one type"},
		{`{"$jsonSchema": {"foo": 1}}`, "Unknown $jsonSchema keyword: foo"},
		{`{"$jsonSchema": {"format": "x"}}`, "$jsonSchema keyword 'format' is not currently supported"},
		{`{"$text": {"$search": "x"}}`, "text index required for $text query"},
	}
	for _, c := range cases {
		_, err := Compile(ext(t, c.filter), nil)
		require.Error(t, err, c.filter)
		var me *mongoerr.Error
		require.True(t, errors.As(err, &me))
		assert.Equal(t, c.msg, me.Message, c.filter)
	}
}

func TestConcurrentMatch(t *testing.T) {
	m, err := Compile(ext(t, `{"a.b": {"$gt": 1}, "c": {"$regex": "^x"}, "$expr": {"$lt": ["$n", 10]}}`), nil)
	require.NoError(t, err)
	doc := ext(t, `{"a": [{"b": 0}, {"b": 5}], "c": "xy", "n": 3}`)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				ok, pos, err := m.MatchPosition(doc, nil)
				if err != nil || !ok || pos != 1 {
					t.Errorf("got %v %d %v", ok, pos, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestMatchDoesNotAllocate(t *testing.T) {
	m, err := Compile(ext(t, `{"a": 5, "b.c": {"$in": [1, 2, 3]}, "d": {"$gte": 1, "$lt": 10}, "e": {"$exists": true}, "f": {"$elemMatch": {"x": 1}}}`), nil)
	require.NoError(t, err)
	doc := ext(t, `{"a": 5, "b": [{"c": 0}, {"c": 2}], "d": 3, "e": null, "f": [{"x": 0}, {"x": 1}]}`)
	allocs := testing.AllocsPerRun(100, func() {
		ok, _, _ := m.MatchPosition(doc, nil)
		if !ok {
			t.Fatal("no match")
		}
	})
	assert.Zero(t, allocs)
}

func BenchmarkMatch(b *testing.B) {
	m, err := Compile(ext(b, `{"status": "active", "age": {"$gte": 18, "$lt": 65}, "tags": {"$in": ["a", "b"]}}`), nil)
	require.NoError(b, err)
	doc := ext(b, `{"_id": 1, "name": "x", "status": "active", "age": 30, "tags": ["c", "b"], "address": {"city": "y"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if ok, _ := m.Match(doc, nil); !ok {
			b.Fatal("no match")
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	filter := ext(b, `{"status": "active", "age": {"$gte": 18, "$lt": 65}, "name": {"$regex": "^x", "$options": "i"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile(filter, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestValuesOutsideExtendedJSON covers values the conformance file cannot hold or that real
// drivers no longer write (undefined, symbols), and MongoDB 8.0's null/undefined split.
func TestValuesOutsideExtendedJSON(t *testing.T) {
	cases := []struct {
		filter bson.D
		doc    bson.D
		want   bool
	}{
		// Since 8.0, null no longer matches undefined; a missing field still does.
		{bson.D{{Key: "a", Value: nil}}, bson.D{{Key: "a", Value: bson.Undefined{}}}, false},
		{bson.D{{Key: "a", Value: nil}}, bson.D{}, true},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$in", Value: bson.A{nil}}}}}, bson.D{{Key: "a", Value: bson.Undefined{}}}, false},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$gte", Value: nil}}}}, bson.D{{Key: "a", Value: bson.Undefined{}}}, false},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$exists", Value: true}}}}, bson.D{{Key: "a", Value: bson.Undefined{}}}, true},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$type", Value: "undefined"}}}}, bson.D{{Key: "a", Value: bson.Undefined{}}}, true},
		// bson.Null is null too.
		{bson.D{{Key: "a", Value: nil}}, bson.D{{Key: "a", Value: bson.Null{}}}, true},
		// Symbols compare as strings and match regexes.
		{bson.D{{Key: "a", Value: "abc"}}, bson.D{{Key: "a", Value: bson.Symbol("abc")}}, true},
		{bson.D{{Key: "a", Value: bson.Regex{Pattern: "^ab"}}}, bson.D{{Key: "a", Value: bson.Symbol("abc")}}, true},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$type", Value: "symbol"}}}}, bson.D{{Key: "a", Value: bson.Symbol("abc")}}, true},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: "abb"}}}}, bson.D{{Key: "a", Value: bson.Symbol("abc")}}, true},
		// MaxKey bounds hold for every other value, a missing field included.
		{bson.D{{Key: "a", Value: bson.D{{Key: "$lt", Value: bson.MaxKey{}}}}}, bson.D{}, true},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$gt", Value: bson.MinKey{}}}}}, bson.D{{Key: "a", Value: bson.Undefined{}}}, true},
		// JavaScript and DBPointer values compare by value.
		{bson.D{{Key: "a", Value: bson.JavaScript("f()")}}, bson.D{{Key: "a", Value: bson.JavaScript("f()")}}, true},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$type", Value: "javascript"}}}}, bson.D{{Key: "a", Value: bson.JavaScript("f()")}}, true},
	}
	for _, c := range cases {
		m, err := Compile(c.filter, nil)
		require.NoError(t, err, "%v", c.filter)
		got, err := m.Match(c.doc, nil)
		require.NoError(t, err)
		assert.Equal(t, c.want, got, "%v on %v", c.filter, c.doc)
	}
}

func TestArrayAsDocument(t *testing.T) {
	// $elemMatch sees an array element that is itself an array as a document keyed by position.
	m, err := Compile(ext(t, `{"a": {"$elemMatch": {"1": 5}}}`), nil)
	require.NoError(t, err)
	ok, err := m.Match(ext(t, `{"a": [[4, 5]]}`), nil)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "12", itoa(12))
	assert.Equal(t, "0", itoa(0))
}
