package value

import (
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// brackets lists the lowest value of each canonical type bracket, in BSON order.
var brackets = []any{
	bson.MinKey{},
	bson.Undefined{},
	nil,
	math.NaN(), // NaN sorts below every other number
	"",
	bson.D{},
	bson.A{},
	bson.Binary{},
	bson.ObjectID{},
	false,
	bson.DateTime(math.MinInt64),
	bson.Timestamp{},
	bson.Regex{},
	bson.DBPointer{},
	bson.JavaScript(""),
	bson.CodeWithScope{Scope: bson.D{}},
	bson.MaxKey{},
}

// BracketMin returns the lowest value in v's canonical type bracket: every value of the
// bracket compares greater than or equal to it.
func BracketMin(v any) any {
	c := canonical(v)
	for _, b := range brackets {
		if canonical(b) == c {
			return b
		}
	}
	return bson.MaxKey{}
}

// NextBracketMin returns the lowest value of the bracket after v's: every value of v's
// bracket compares less than it. After MaxKey's bracket it returns MaxKey.
func NextBracketMin(v any) any {
	c := canonical(v)
	for _, b := range brackets {
		if canonical(b) > c {
			return b
		}
	}
	return bson.MaxKey{}
}
