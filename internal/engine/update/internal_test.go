package update

import (
	"math"
	"slices"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/value"
	"github.com/stretchr/testify/require"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestBinaryEqual(t *testing.T) {
	oid := bson.NewObjectID()
	d1, _ := bson.ParseDecimal128("1.0")
	d2, _ := bson.ParseDecimal128("1.00")
	same := []any{
		nil, int32(1), int64(1), 1.5, math.NaN(), "s", true, oid, bson.DateTime(5), bson.Timestamp{T: 1, I: 2},
		bson.Regex{Pattern: "a", Options: "i"}, bson.MinKey{}, bson.MaxKey{}, bson.Undefined{}, d1,
		bson.Binary{Subtype: 4, Data: []byte{1, 2}}, bson.JavaScript("f"), bson.Symbol("s"),
		bson.CodeWithScope{Code: "c", Scope: bson.D{{Key: "x", Value: int32(1)}}},
		bson.DBPointer{DB: "db", Pointer: oid}, bson.D{{Key: "a", Value: bson.A{int32(1)}}}, bson.A{bson.D{}},
	}
	for _, v := range same {
		require.True(t, binaryEqual(v, v), "%v", v)
	}
	for _, pair := range [][2]any{
		{int32(1), int64(1)}, {int32(1), 1.0}, {0.0, math.Copysign(0, -1)}, {d1, d2}, {nil, bson.Undefined{}},
		{bson.D{{Key: "a", Value: int32(1)}, {Key: "b", Value: int32(2)}}, bson.D{{Key: "b", Value: int32(2)}, {Key: "a", Value: int32(1)}}},
		{bson.A{int32(1)}, bson.A{int32(1), int32(2)}}, {bson.Binary{Subtype: 0, Data: []byte{1}}, bson.Binary{Subtype: 4, Data: []byte{1}}},
		{"a", bson.Symbol("a")}, {bson.D{}, bson.A{}},
	} {
		require.False(t, binaryEqual(pair[0], pair[1]), "%v %v", pair[0], pair[1])
	}
	require.True(t, binaryEqual(nil, bson.Null{}))
}

func TestFieldOrder(t *testing.T) {
	names := []string{"b", "10", "a", "9", "_id", "01", "0", "B", "100", "1a"}
	slices.SortFunc(names, fieldCompare)
	require.Equal(t, []string{"0", "01", "9", "10", "1a", "100", "B", "_id", "a", "b"}, names)
}

func TestMergeNestedNodes(t *testing.T) {
	u, err := Compile(bson.D{{Key: "$set", Value: bson.D{
		{Key: "a.$[x].b.$[i].p", Value: int32(1)},
		{Key: "a.$[y].b.$[j].q", Value: int32(2)},
		{Key: "a.$[y].c", Value: int32(3)},
	}}}, []bson.D{
		{{Key: "x.k", Value: int32(1)}}, {{Key: "y.k", Value: int32(1)}},
		{{Key: "i", Value: bson.D{{Key: "$exists", Value: true}}}}, {{Key: "j.v", Value: int32(2)}},
	})
	require.NoError(t, err)
	doc := bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.A{
		bson.D{{Key: "k", Value: int32(1)}, {Key: "b", Value: bson.A{bson.D{{Key: "v", Value: int32(1)}}, bson.D{{Key: "v", Value: int32(2)}}}}},
	}}}
	out, changed, err := u.Apply(doc, nil)
	require.NoError(t, err)
	require.True(t, changed)
	want := bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.A{
		bson.D{{Key: "k", Value: int32(1)}, {Key: "b", Value: bson.A{
			bson.D{{Key: "v", Value: int32(1)}, {Key: "p", Value: int32(1)}},
			bson.D{{Key: "v", Value: int32(2)}, {Key: "p", Value: int32(1)}, {Key: "q", Value: int32(2)}},
		}}, {Key: "c", Value: int32(3)}},
	}}}
	require.True(t, binaryEqual(want, out), "got %v", out)

	// A leaf and an internal node on one element conflict.
	u, err = Compile(bson.D{{Key: "$set", Value: bson.D{{Key: "a.$[x]", Value: int32(1)}, {Key: "a.$[y].b", Value: int32(2)}}}},
		[]bson.D{{{Key: "x", Value: bson.D{{Key: "$exists", Value: true}}}}, {{Key: "y.b", Value: int32(1)}}})
	require.NoError(t, err)
	_, _, err = u.Apply(bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "b", Value: int32(1)}}}}}, nil)
	require.Error(t, err)
	require.Contains(t, err.Error(), "Update created a conflict at 'a.0'")
}

func TestFormatValue(t *testing.T) {
	d, _ := bson.ParseDecimal128("1.5")
	v := bson.D{{Key: "a", Value: bson.A{int32(1), int64(2), 3.0, 1.5, "s", nil, true, bson.D{}, bson.A{}}},
		{Key: "d", Value: d}, {Key: "t", Value: bson.Timestamp{T: 1, I: 2}}, {Key: "r", Value: bson.Regex{Pattern: "x", Options: "i"}}}
	require.Equal(t, `{ a: [ 1, 2, 3.0, 1.5, "s", null, true, {}, [] ], d: NumberDecimal("1.5"), t: Timestamp(1, 2), r: /x/i }`, value.Format(v))
}
