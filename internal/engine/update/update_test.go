package update_test

import (
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/conformance"
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/update"
	"github.com/modjo-orm/modjo/internal/engine/value"
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

func compile(t testing.TB, spec string, filters ...string) *update.Update {
	t.Helper()
	var af []bson.D
	for _, f := range filters {
		af = append(af, ext(t, f))
	}
	u, err := update.Compile(ext(t, spec), af)
	require.NoError(t, err)
	return u
}

func requireSame(t testing.TB, want, got any) {
	t.Helper()
	require.True(t, conformance.Same(want, got), "want %v\n got %v", want, got)
}

func requireCode(t testing.TB, err error, code int32) {
	t.Helper()
	require.Error(t, err)
	require.True(t, mongoerr.HasCode(err, code), "want code %d, got %v", code, err)
}

func TestCurrentDate(t *testing.T) {
	now := bson.DateTime(1700000000123)
	ts := bson.Timestamp{T: 1700000000, I: 7}
	ctx := &update.Context{Positional: -1, Now: now, Timestamp: ts}
	u := compile(t, `{"$currentDate": {"a": true, "b": {"$type": "timestamp"}, "c.d": {"$type": "date"}, "e": false}}`)
	out, changed, err := u.Apply(ext(t, `{"_id": 1, "a": 5}`), ctx)
	require.NoError(t, err)
	require.True(t, changed)
	requireSame(t, bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: now}, {Key: "b", Value: ts},
		{Key: "c", Value: bson.D{{Key: "d", Value: now}}}, {Key: "e", Value: now}}, out)

	// Setting the same instant again still counts as a modification, as in mongod.
	_, changed, err = compile(t, `{"$currentDate": {"a": true}}`).Apply(bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: now}}, ctx)
	require.NoError(t, err)
	require.True(t, changed)
}

func TestContextNilAndPositional(t *testing.T) {
	u := compile(t, `{"$set": {"a": 1}}`)
	out, changed, err := u.Apply(ext(t, `{"_id": 1}`), nil)
	require.NoError(t, err)
	require.True(t, changed)
	requireSame(t, ext(t, `{"_id": 1, "a": 1}`), out)
	require.False(t, u.IsPositional())

	p := compile(t, `{"$set": {"a.$.b": 1}}`)
	require.True(t, p.IsPositional())
	_, _, err = p.Apply(ext(t, `{"_id": 1, "a": [{}]}`), nil)
	requireCode(t, err, mongoerr.BadValue)
}

func TestApplyDoesNotModifyInputAndSharesUntouchedSubtrees(t *testing.T) {
	doc := ext(t, `{"_id": 1, "keep": {"x": [1, 2]}, "a": {"b": [1, {"c": 1}], "d": {"e": 1}}, "arr": [1, 2, 3]}`)
	before := value.DeepCopy(doc)
	u := compile(t, `{"$set": {"a.b.1.c": 2, "n": 1}, "$unset": {"arr.0": 1}, "$push": {"a.d.f": 1}}`)
	out, changed, err := u.Apply(doc, nil)
	require.NoError(t, err)
	require.True(t, changed)
	requireSame(t, before, doc)
	requireSame(t, ext(t, `{"_id": 1, "keep": {"x": [1, 2]}, "a": {"b": [1, {"c": 2}], "d": {"e": 1, "f": [1]}}, "arr": [null, 2, 3], "n": 1}`), out)
	// The untouched subtree is the very same slice as in the input.
	keepIn := value.Get(doc, "keep").(bson.D)
	keepOut := value.Get(out, "keep").(bson.D)
	require.Same(t, &keepIn[0], &keepOut[0])

	// Without changes the input is returned as is.
	out, changed, err = compile(t, `{"$set": {"_id": 1}}`).Apply(doc, nil)
	require.NoError(t, err)
	require.False(t, changed)
	require.Same(t, &doc[0], &out[0])
}

func TestUpdateDoesNotShareMemoryWithSpec(t *testing.T) {
	spec := ext(t, `{"$set": {"a": {"b": 1}}}`)
	u, err := update.Compile(spec, nil)
	require.NoError(t, err)
	// The caller may reuse its spec buffer after Compile.
	spec[0].Value.(bson.D)[0].Value.(bson.D)[0].Value = int32(99)
	out, _, err := u.Apply(ext(t, `{"_id": 1}`), nil)
	require.NoError(t, err)
	requireSame(t, ext(t, `{"_id": 1, "a": {"b": 1}}`), out)
}

func TestInsertingAllowsTopLevelDollarFields(t *testing.T) {
	u := compile(t, `{"$set": {"$x": 1}}`)
	out, _, err := u.Apply(ext(t, `{"_id": 1}`), &update.Context{Positional: -1, Inserting: true})
	require.NoError(t, err)
	requireSame(t, ext(t, `{"_id": 1, "$x": 1}`), out)
	_, _, err = u.Apply(ext(t, `{"_id": 1}`), &update.Context{Positional: -1})
	requireCode(t, err, mongoerr.DollarPrefixedFieldName)
	_, _, err = compile(t, `{"$set": {"$ref": "c"}}`).Apply(ext(t, `{"_id": 1}`), nil)
	requireCode(t, err, mongoerr.InvalidDBRef)
}

func TestInsertingChecksID(t *testing.T) {
	ins := &update.Context{Positional: -1, Inserting: true}
	for _, tc := range []struct {
		seed, spec string
		code       int32
	}{
		{`{}`, `{"$set": {"_id": {"$regularExpression": {"pattern": "a", "options": ""}}}}`, mongoerr.InvalidIDField},
		{`{}`, `{"$set": {"_id": {"$undefined": true}}}`, mongoerr.InvalidIDField},
		{`{}`, `{"$set": {"_id": {"a": {"$b": 1}}}}`, mongoerr.DollarPrefixedFieldName},
		{`{"_id": [1]}`, `{"$set": {"a": 1}}`, mongoerr.InvalidIDField},
		{`{"_id": [1]}`, `{"$setOnInsert": {}}`, mongoerr.InvalidIDField},
	} {
		_, _, err := compile(t, tc.spec).Apply(ext(t, tc.seed), ins)
		requireCode(t, err, tc.code)
	}
	// _id created by the update moves to the front; a missing _id is left to the caller.
	out, _, err := compile(t, `{"$set": {"b": 2, "_id": {"x": 1}}}`).Apply(ext(t, `{"a": 1}`), ins)
	require.NoError(t, err)
	requireSame(t, ext(t, `{"_id": {"x": 1}, "a": 1, "b": 2}`), out)
	out, _, err = compile(t, `{"$set": {"b": 2}}`).Apply(ext(t, `{"a": 1}`), ins)
	require.NoError(t, err)
	requireSame(t, ext(t, `{"a": 1, "b": 2}`), out)
	// Two paths creating _id piece by piece: the second finds _id already there.
	_, _, err = compile(t, `{"$set": {"_id.a": 1, "_id.b": 2}}`).Apply(bson.D{}, ins)
	requireCode(t, err, mongoerr.ImmutableField)
}

func TestSetOnInsertOnlyWhenInserting(t *testing.T) {
	u := compile(t, `{"$setOnInsert": {"a.b": 1}}`)
	// Not inserting: nothing happens, not even the path check.
	out, changed, err := u.Apply(ext(t, `{"_id": 1, "a": 5}`), nil)
	require.NoError(t, err)
	require.False(t, changed)
	requireSame(t, ext(t, `{"_id": 1, "a": 5}`), out)
	_, _, err = u.Apply(ext(t, `{"_id": 1, "a": 5}`), &update.Context{Positional: -1, Inserting: true})
	requireCode(t, err, mongoerr.PathNotViable)
}

func TestDecimalArithmeticWithDoubles(t *testing.T) {
	// A double operand of decimal arithmetic keeps 15 significant digits.
	out, _, err := compile(t, `{"$inc": {"a": 0.1}}`).Apply(ext(t, `{"_id": 1, "a": {"$numberDecimal": "1"}}`), nil)
	require.NoError(t, err)
	requireSame(t, ext(t, `{"_id": 1, "a": {"$numberDecimal": "1.100000000000000"}}`), out)
	out, _, err = compile(t, `{"$mul": {"a": {"$numberDecimal": "2"}}}`).Apply(ext(t, `{"_id": 1, "a": 0.5}`), nil)
	require.NoError(t, err)
	requireSame(t, ext(t, `{"_id": 1, "a": {"$numberDecimal": "1.000000000000000"}}`), out)
}

func TestNumericEdges(t *testing.T) {
	for _, tc := range []struct {
		doc, spec, want string
		changed         bool
		code            int32
	}{
		{`{"_id": 1, "a": {"$numberLong": "-9223372036854775808"}}`, `{"$inc": {"a": -1}}`, ``, false, mongoerr.BadValue},
		{`{"_id": 1, "a": {"$numberLong": "-9223372036854775808"}}`, `{"$mul": {"a": -1}}`, ``, false, mongoerr.BadValue},
		{`{"_id": 1, "a": -2147483648}`, `{"$mul": {"a": -1}}`, `{"_id": 1, "a": {"$numberLong": "2147483648"}}`, true, 0},
		{`{"_id": 1, "a": {"$numberDouble": "NaN"}}`, `{"$inc": {"a": 0}}`, `{"_id": 1, "a": {"$numberDouble": "NaN"}}`, true, 0},
		{`{"_id": 1, "a": 1.5}`, `{"$mul": {"a": {"$numberLong": "2"}}}`, `{"_id": 1, "a": 3.0}`, true, 0},
		{`{"_id": 1}`, `{"$mul": {"a": -2.5}}`, `{"_id": 1, "a": -0.0}`, true, 0},
		{`{"_id": 1, "a": {"$numberLong": "6"}}`, `{"$bit": {"a": {"xor": 3}}}`, `{"_id": 1, "a": {"$numberLong": "5"}}`, true, 0},
		{`{"_id": 1, "a": 6}`, `{"$bit": {"a": {"and": -1}}}`, `{"_id": 1, "a": 6}`, false, 0},
	} {
		t.Run(tc.spec+tc.doc, func(t *testing.T) {
			out, changed, err := compile(t, tc.spec).Apply(ext(t, tc.doc), nil)
			if tc.code != 0 {
				requireCode(t, err, tc.code)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.changed, changed)
			requireSame(t, ext(t, tc.want), out)
		})
	}
}

func TestRenameEdges(t *testing.T) {
	// A source path through a scalar is PathNotViable, as mongod reports it.
	_, _, err := compile(t, `{"$rename": {"a.b": "c"}}`).Apply(ext(t, `{"_id": 1, "a": 5}`), nil)
	requireCode(t, err, mongoerr.PathNotViable)
	// The destination through a scalar cannot be created.
	_, _, err = compile(t, `{"$rename": {"a": "b.c"}}`).Apply(ext(t, `{"_id": 1, "a": 1, "b": 2}`), nil)
	requireCode(t, err, mongoerr.PathNotViable)
	// ...but nothing fails when the source is missing.
	out, changed, err := compile(t, `{"$rename": {"x": "b.c"}}`).Apply(ext(t, `{"_id": 1, "b": 2}`), nil)
	require.NoError(t, err)
	require.False(t, changed)
	requireSame(t, ext(t, `{"_id": 1, "b": 2}`), out)
	// Renaming onto _id with the same value only removes the source.
	out, _, err = compile(t, `{"$rename": {"a": "_id"}}`).Apply(ext(t, `{"_id": 1, "a": 1}`), nil)
	require.NoError(t, err)
	requireSame(t, ext(t, `{"_id": 1}`), out)
	_, _, err = compile(t, `{"$rename": {"a": "_id"}}`).Apply(ext(t, `{"_id": 1, "a": 2}`), nil)
	requireCode(t, err, mongoerr.ImmutableField)
	// Both ends in one embedded document.
	out, _, err = compile(t, `{"$rename": {"a.b": "a.z"}}`).Apply(ext(t, `{"_id": 1, "a": {"b": 1, "c": 2}}`), nil)
	require.NoError(t, err)
	requireSame(t, ext(t, `{"_id": 1, "a": {"c": 2, "z": 1}}`), out)
	for _, spec := range []string{
		`{"$rename": {"a": "b.$[]"}}`, `{"$rename": {"a.$[x]": "b"}}`, `{"$rename": {"a": "b\u0000c"}}`,
		`{"$rename": {"a.b": "a"}}`,
	} {
		_, err := update.Compile(ext(t, spec), nil)
		requireCode(t, err, mongoerr.BadValue)
	}
}

func TestPaddingLimit(t *testing.T) {
	_, _, err := compile(t, `{"$set": {"a.1500001": 1}}`).Apply(ext(t, `{"_id": 1, "a": []}`), nil)
	requireCode(t, err, mongoerr.CannotBackfillArray)
	_, _, err = compile(t, `{"$set": {"a.99999999999": 1}}`).Apply(ext(t, `{"_id": 1, "a": []}`), nil)
	requireCode(t, err, mongoerr.PathNotViable)
}

func TestPushExtremes(t *testing.T) {
	d := bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.A{int32(1), int32(2)}}}
	for _, tc := range []struct {
		clause bson.D
		want   bson.A
	}{
		{bson.D{{Key: "$each", Value: bson.A{int32(0)}}, {Key: "$position", Value: int64(math.MinInt64)}}, bson.A{int32(0), int32(1), int32(2)}},
		{bson.D{{Key: "$each", Value: bson.A{int32(3)}}, {Key: "$position", Value: int64(math.MaxInt64)}}, bson.A{int32(1), int32(2), int32(3)}},
		{bson.D{{Key: "$each", Value: bson.A{int32(3)}}, {Key: "$slice", Value: int64(math.MinInt64)}}, bson.A{int32(1), int32(2), int32(3)}},
		{bson.D{{Key: "$each", Value: bson.A{int32(3)}}, {Key: "$slice", Value: int64(math.MaxInt64)}}, bson.A{int32(1), int32(2), int32(3)}},
		{bson.D{{Key: "$each", Value: bson.A{}}, {Key: "$slice", Value: bson.Decimal128{}}}, bson.A{}},
	} {
		u, err := update.Compile(bson.D{{Key: "$push", Value: bson.D{{Key: "a", Value: tc.clause}}}}, nil)
		require.NoError(t, err)
		out, _, err := u.Apply(d, nil)
		require.NoError(t, err)
		requireSame(t, tc.want, value.Get(out, "a"))
	}
}

func TestArrayFilterWithExpr(t *testing.T) {
	// $expr in an array filter sees the wrapped element as $$ROOT.
	u := compile(t, `{"$set": {"a.$[e]": 0}}`, `{"e": {"$exists": true}, "$expr": {"$gt": ["$e", 1]}}`)
	out, _, err := u.Apply(ext(t, `{"_id": 1, "a": [1, 2, 3]}`), &update.Context{Positional: -1, Env: &expr.Env{}})
	require.NoError(t, err)
	requireSame(t, ext(t, `{"_id": 1, "a": [1, 0, 0]}`), out)

	// A command's let variables.
	_, err = update.Compile(ext(t, `{"$set": {"a.$[e]": 0}}`), []bson.D{ext(t, `{"e": 1, "$expr": {"$eq": ["$$lim", 3]}}`)})
	require.Error(t, err)
	u, err = update.CompileWithVars(ext(t, `{"$set": {"a.$[e]": 0}}`), []bson.D{ext(t, `{"$expr": {"$lt": ["$e", "$$lim"]}, "e": {"$gte": 0}}`)}, []string{"lim"})
	require.NoError(t, err)
	out, _, err = u.Apply(ext(t, `{"_id": 1, "a": [1, 2, 3]}`), &update.Context{Positional: -1, Env: &expr.Env{Vars: map[string]any{"lim": int32(3)}}})
	require.NoError(t, err)
	requireSame(t, ext(t, `{"_id": 1, "a": [0, 0, 3]}`), out)
}

func TestCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		filters []string
		code    int32
		msg     string
	}{
		{`{"$foo": {"a": 1}}`, nil, mongoerr.FailedToParse,
			"Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array"},
		{`{"$set": {"a.b": 1, "a": 1}}`, nil, mongoerr.ConflictingUpdateOperators, "Updating the path 'a' would create a conflict at 'a'"},
		{`{"$set": {"a": 1, "a.b": 1}}`, nil, mongoerr.ConflictingUpdateOperators, "Updating the path 'a.b' would create a conflict at 'a'"},
		{`{"$inc": {"a": "x"}}`, nil, mongoerr.TypeMismatch, `Cannot increment with non-numeric argument: {a: "x"}`},
		{`{"$set": {"a.$[x]": 1}}`, nil, mongoerr.BadValue, "No array filter found for identifier 'x' in path 'a.$[x]'"},
		{`{"$set": {"b": 1}}`, []string{`{"x": 1}`}, mongoerr.FailedToParse, ""},
		{`{"$set": {"a.$[x]": 1}}`, []string{`{"$expr": {"$eq": [1, 1]}}`}, mongoerr.FailedToParse,
			"Cannot use an expression without a top-level field name in arrayFilters"},
		{`{"$set": {"a.$[x]": 1}}`, []string{`{"$and": [{"x": 1}, {"y": 1}]}`}, mongoerr.FailedToParse, ""},
		{`{"$set": {"a.$[x]": 1}}`, []string{`{"x": {"$bogus": 1}}`}, mongoerr.BadValue, ""},
		{`{"$pull": {"a": {"$expr": {"$eq": [1, 1]}}}}`, nil, mongoerr.QueryFeatureNotAllowed, ""},
		{`{"$push": {"a": {"$each": [1], "$each": [2]}}}`, nil, mongoerr.BadValue, "Only one $each is supported."},
		{`{"$push": {"a": {"$each": [1], "$sort": {}}}}`, nil, mongoerr.BadValue, ""},
		{`{"$push": {"a": {"$each": [1], "$sort": {"a..b": 1}}}}`, nil, mongoerr.BadValue, ""},
		{`{"$push": {"a": {"$each": [1], "$sort": "x"}}}`, nil, mongoerr.BadValue, ""},
		{`{"$pop": {"a": 1.5}}`, nil, mongoerr.FailedToParse, ""},
		{`{"$bit": {"a": {}}}`, nil, mongoerr.BadValue, ""},
		{`{"$currentDate": {"a": 1}}`, nil, mongoerr.BadValue, ""},
		{`{"$currentDate": {"a": {"$type": 1}}}`, nil, mongoerr.BadValue, ""},
		{`{"$set": {"a.$.b.$": 1}}`, nil, mongoerr.BadValue, ""},
		{`{"$set": {"$[].a": 1}}`, nil, mongoerr.BadValue, ""},
		{`{"$unset": {"a..b": 1}}`, nil, mongoerr.EmptyFieldName, "The update path 'a..b' contains an empty field name, which is not allowed."},
		{`{"$rename": {"": "b"}}`, nil, mongoerr.EmptyFieldName, ""},
		{`{"$rename": {"a": ""}}`, nil, mongoerr.EmptyFieldName, ""},
		{`{"$set": {"a.$[]": 1}, "$inc": {"a.$[]": 1}}`, nil, mongoerr.ConflictingUpdateOperators, ""},
		{`{"$set": {"a.$[x].b": 1, "a.$[x]": 1}}`, []string{`{"x": 1}`}, mongoerr.ConflictingUpdateOperators, ""},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			var af []bson.D
			for _, f := range tc.filters {
				af = append(af, ext(t, f))
			}
			_, err := update.Compile(ext(t, tc.spec), af)
			requireCode(t, err, tc.code)
			if tc.msg != "" {
				require.Equal(t, tc.msg, mongoerr.From(err).Message)
			}
		})
	}
}

func TestApplyErrorMessages(t *testing.T) {
	for _, tc := range []struct{ doc, spec, msg string }{
		{`{"_id": 1, "a": 5}`, `{"$set": {"a.b": 1}}`, "Cannot create field 'b' in element {a: 5}"},
		{`{"_id": 1, "a": "x"}`, `{"$inc": {"a": 1}}`,
			"Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string"},
		{`{"_id": 1, "a": 1}`, `{"$set": {"_id": 2}}`, "Performing an update on the path '_id' would modify the immutable field '_id'"},
		{`{"_id": 1, "a": [1]}`, `{"$set": {"a.$": 1}}`, "The positional operator did not find the match needed from the query."},
		{`{"_id": 1}`, `{"$set": {"a.$[]": 1}}`, "The path 'a' must exist in the document in order to apply array updates."},
		{`{"_id": 1, "a": 1}`, `{"$push": {"a": 1}}`, "The field 'a' must be an array but is of type int in document {_id: 1}"},
		{`{"_id": 1, "a": 5}`, `{"$pop": {"a.b": 1}}`, "Cannot use the part (b of a.b) to traverse the element ({a: 5})"},
	} {
		_, _, err := compile(t, tc.spec).Apply(ext(t, tc.doc), nil)
		require.Error(t, err)
		require.Equal(t, tc.msg, mongoerr.From(err).Message)
	}
}

func TestIsOperatorUpdate(t *testing.T) {
	require.True(t, update.IsOperatorUpdate(ext(t, `{"$set": {"a": 1}}`)))
	require.False(t, update.IsOperatorUpdate(ext(t, `{"a": 1, "$set": {}}`)))
	require.False(t, update.IsOperatorUpdate(bson.D{}))
}

func TestValidateReplacement(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		code int32
	}{
		{`{"a": 1, "b": {"$c": 1, "d.e": 2}}`, 0},
		{`{"_id": {"x": 1}, "a": [{"$b": 1}]}`, 0},
		{`{"a": 1, "$set": {"b": 1}}`, mongoerr.DollarPrefixedFieldName},
		{`{"$x": 1}`, mongoerr.DollarPrefixedFieldName},
		{`{"_id": [1, 2]}`, mongoerr.InvalidIDField},
		{`{"_id": {"$regularExpression": {"pattern": "a", "options": ""}}}`, mongoerr.InvalidIDField},
		{`{"_id": {"a": {"$b": 1}}}`, mongoerr.DollarPrefixedFieldName},
		{`{"$ref": "c", "$id": 1}`, 0},
		{`{"$ref": "c", "$id": 1, "$db": "d"}`, 0},
		{`{"$ref": 1, "$id": 1}`, mongoerr.InvalidDBRef},
		{`{"$id": 1}`, mongoerr.InvalidDBRef},
		{`{"$ref": "c"}`, mongoerr.InvalidDBRef},
		{`{"$ref": "c", "$id": 1, "$db": 1}`, mongoerr.InvalidDBRef},
	} {
		err := update.ValidateReplacement(ext(t, tc.doc))
		if tc.code == 0 {
			require.NoError(t, err, tc.doc)
		} else {
			requireCode(t, err, tc.code)
		}
	}
}

func TestUpsertSeed(t *testing.T) {
	for _, tc := range []struct {
		filter, want string
		code         int32
	}{
		{`{}`, `{}`, 0},
		{`{"b": 1, "_id": 2, "a": 3}`, `{"_id": 2, "a": 3, "b": 1}`, 0},
		{`{"a.c": 1, "a.b": 2, "B": 1, "_id": 0}`, `{"_id": 0, "B": 1, "a": {"b": 2, "c": 1}}`, 0},
		{`{"a": {"$eq": {"$gt": 1}}}`, `{"a": {"$gt": 1}}`, 0},
		{`{"a": {"$gte": 1, "$eq": 2}}`, `{"a": 2}`, 0},
		{`{"a": {"$in": [5]}, "b": {"$in": [1, 2]}, "c": {"$in": [{"$regularExpression": {"pattern": "x", "options": ""}}]}}`, `{"a": 5}`, 0},
		{`{"a": {"$all": [1]}, "b": {"$all": [{"$elemMatch": {"x": 1}}]}}`, `{"a": 1}`, 0},
		{`{"a": {"$regularExpression": {"pattern": "x", "options": ""}}, "b": null}`, `{"b": null}`, 0},
		{`{"a": {"$ref": "c", "$id": 1}}`, `{"a": {"$ref": "c", "$id": 1}}`, 0},
		{`{"$or": [{"a": 1, "b": 2}], "$nor": [{"c": 1}]}`, `{"a": 1, "b": 2}`, 0},
		{`{"$and": [{"$or": [{"$and": [{"a": 1}]}]}]}`, `{"a": 1}`, 0},
		{`{"a": 1, "$and": [{"a": 1}]}`, ``, mongoerr.NotSingleValueField},
		{`{"a.b": 1, "a": {"b": 1}}`, ``, mongoerr.NotSingleValueField},
		{`{"_id": {"x": 1}, "_id.y": 1}`, ``, mongoerr.NotSingleValueField},
		{`{"$or": [{"a": 1}, {"$expr": true}]}`, ``, mongoerr.QueryFeatureNotAllowed},
		{`{"$and": 1}`, ``, mongoerr.BadValue},
		{`{"$and": [1]}`, ``, mongoerr.BadValue},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			filter := ext(t, tc.filter)
			before := value.DeepCopy(filter)
			got, err := update.UpsertSeed(filter)
			requireSame(t, before, filter)
			if tc.code != 0 {
				requireCode(t, err, tc.code)
				return
			}
			require.NoError(t, err)
			requireSame(t, ext(t, tc.want), got)
		})
	}
	// The seed must not share memory with the filter.
	filter := ext(t, `{"a": {"b": [1]}}`)
	seed, err := update.UpsertSeed(filter)
	require.NoError(t, err)
	value.Get(seed, "a").(bson.D)[0].Value.(bson.A)[0] = int32(2)
	requireSame(t, ext(t, `{"a": {"b": [1]}}`), filter)
}

func TestReplacementUpsertID(t *testing.T) {
	id, found, err := update.ReplacementUpsertID(ext(t, `{"a": 1, "a.b": 2, "_id": {"x": 1}, "c": {"$gt": 1}}`))
	require.NoError(t, err)
	require.True(t, found)
	requireSame(t, ext(t, `{"x": 1}`), id)
	_, found, err = update.ReplacementUpsertID(ext(t, `{"a": 1}`))
	require.NoError(t, err)
	require.False(t, found)
	_, _, err = update.ReplacementUpsertID(ext(t, `{"_id.x": 1}`))
	requireCode(t, err, mongoerr.NotExactValueField)
	_, _, err = update.ReplacementUpsertID(ext(t, `{"_id": 1, "$and": [{"_id": 1}]}`))
	requireCode(t, err, mongoerr.NotSingleValueField)
	_, _, err = update.ReplacementUpsertID(ext(t, `{"$expr": true}`))
	requireCode(t, err, mongoerr.QueryFeatureNotAllowed)
}

// TestNoPanics feeds malformed and unusual specs and documents through Compile and Apply.
func TestNoPanics(t *testing.T) {
	specs := []string{
		`{}`, `{"$set": []}`, `{"$set": null}`, `{"$push": {"a": {"$each": null}}}`, `{"$pull": {"a": {"$elemMatch": 1}}}`,
		`{"$pull": {"a": {}}}`, `{"$addToSet": {"a": {}}}`, `{"$pop": {"a": null}}`, `{"$bit": {"a": {"and": null}}}`,
		`{"$rename": {"a": null}}`, `{"$set": {"a.$[]": 1, "a.$[].b": 1}}`, `{"$set": {"a.$[].$": 1}}`,
		`{"$set": {"a.0.$": 1}}`, `{"$unset": {"a.$[].$[]": 1}}`, `{"$inc": {"a.-1": 1}}`, `{"$set": {"a.4294967296": 1}}`,
		`{"$set": {".": 1}}`, `{"$set": {"$[": 1}}`, `{"$set": {"a.$[": 1}}`, `{"$min": {"a.$[]": {"$minKey": 1}}}`,
		`{"$mul": {"a.b.c": {"$numberDecimal": "NaN"}}}`, `{"$push": {"a": {"$each": [1], "$sort": {"x": {"$numberDecimal": "1"}}}}}`,
	}
	docs := []string{
		`{}`, `{"_id": 1, "a": null}`, `{"_id": 1, "a": []}`, `{"_id": 1, "a": [[], {}, null, 1]}`, `{"_id": 1, "a": {"$": 1, "0": []}}`,
		`{"_id": 1, "a": {"b": {"c": 1}}}`, `{"_id": 1, "a": "s"}`, `{"_id": 1, "a": [{"b": [{"c": 1}]}]}`,
	}
	for _, s := range specs {
		u, err := update.Compile(ext(t, s), nil)
		if err != nil {
			continue
		}
		for _, d := range docs {
			for _, pos := range []int{-1, 0, 3} {
				for _, ins := range []bool{false, true} {
					func() {
						defer func() {
							if r := recover(); r != nil {
								t.Fatalf("panic for %s on %s: %v", s, d, r)
							}
						}()
						_, _, _ = u.Apply(ext(t, d), &update.Context{Positional: pos, Inserting: ins})
					}()
				}
			}
		}
	}
}

func TestConcurrentApply(t *testing.T) {
	u := compile(t, `{"$inc": {"n": 1}, "$set": {"a.$[e].x": 1}, "$push": {"l": {"$each": [1], "$sort": -1}}}`, `{"e.k": {"$gte": 1}}`)
	doc := ext(t, `{"_id": 1, "a": [{"k": 0}, {"k": 1}], "l": [3, 2]}`)
	want := ext(t, `{"_id": 1, "a": [{"k": 0}, {"k": 1, "x": 1}], "l": [3, 2, 1], "n": 1}`)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 200; j++ {
				out, _, err := u.Apply(doc, nil)
				if err != nil || !conformance.Same(want, out) {
					panic(fmt.Sprint(out, err))
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkApplySetInc(b *testing.B) {
	u := compile(b, `{"$set": {"status": "done", "meta.updated": 2}, "$inc": {"count": 1}}`)
	doc := ext(b, `{"_id": 1, "name": "x", "status": "new", "count": 3, "tags": ["a", "b", "c"], "meta": {"created": 1, "updated": 1, "by": "me"}, "f1": 1, "f2": 2, "f3": 3}`)
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = u.Apply(doc, nil)
	}
}

func BenchmarkApplyArrayFilter(b *testing.B) {
	u := compile(b, `{"$set": {"items.$[i].ok": true}}`, `{"i.qty": {"$gt": 5}}`)
	doc := ext(b, `{"_id": 1, "items": [{"qty": 1}, {"qty": 6}, {"qty": 9}, {"qty": 2}]}`)
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = u.Apply(doc, nil)
	}
}
