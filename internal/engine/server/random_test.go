package server

import (
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// gen builds random but well-formed commands from the operators the server knows, so
// the search reaches deep into every package instead of stopping at BSON parsing.
type gen struct{ r *rand.Rand }

var (
	fieldNames  = []string{"a", "b", "a.b", "a.0", "c.d.e", "_id", "n", "a", "b", "n", "a.b"}
	oddFields   = []string{"a.$", "a.$[]", "a.$[x]", "$x", "", "a..b"}
	queryOps    = []string{"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$type", "$regex", "$options", "$mod", "$all", "$elemMatch", "$size", "$not", "$bitsAllSet", "$bitsAnyClear", "$expr", "$jsonSchema", "$comment"}
	logicalOps  = []string{"$and", "$or", "$nor"}
	updateOps   = []string{"$set", "$unset", "$inc", "$mul", "$min", "$max", "$rename", "$setOnInsert", "$currentDate", "$push", "$addToSet", "$pop", "$pull", "$pullAll", "$bit"}
	exprOps     = []string{"$add", "$subtract", "$multiply", "$divide", "$mod", "$abs", "$round", "$trunc", "$concat", "$substrCP", "$toUpper", "$split", "$size", "$arrayElemAt", "$filter", "$map", "$reduce", "$cond", "$ifNull", "$switch", "$eq", "$lt", "$and", "$not", "$in", "$slice", "$concatArrays", "$mergeObjects", "$getField", "$setField", "$toString", "$toInt", "$convert", "$dateToString", "$dateAdd", "$year", "$sum", "$avg", "$max", "$firstN", "$sortArray", "$let", "$literal", "$regexFind", "$range", "$zip", "$objectToArray", "$arrayToObject", "$setUnion", "$median"}
	stageNames  = []string{"$match", "$project", "$addFields", "$set", "$unset", "$group", "$sort", "$skip", "$limit", "$count", "$replaceRoot", "$replaceWith"}
	accumulator = []string{"$sum", "$avg", "$min", "$max", "$first", "$last", "$push", "$addToSet", "$count", "$stdDevPop", "$mergeObjects", "$topN", "$firstN", "$median"}
)

func (g gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

// field is usually a plain path, sometimes one that only some commands accept.
func (g gen) field() string {
	if g.r.IntN(10) == 0 {
		return g.pick(oddFields)
	}
	return g.pick(fieldNames)
}

// direction is usually a valid sort direction.
func (g gen) direction() any {
	if g.r.IntN(10) == 0 {
		return g.scalar()
	}
	return []int32{1, -1}[g.r.IntN(2)]
}

func (g gen) scalar() any {
	switch g.r.IntN(16) {
	case 0:
		return int32(g.r.IntN(7) - 3)
	case 1:
		return int64(math.MaxInt64 - g.r.Int64N(2))
	case 2:
		return []float64{0.5, -1, math.NaN(), math.Inf(1), 1e300, 2}[g.r.IntN(6)]
	case 3:
		return []string{"", "x", "$a", "$$ROOT", "$$x", "abc", "é", "%Y", "a.b", "UTC"}[g.r.IntN(10)]
	case 4:
		return nil
	case 5:
		return g.r.IntN(2) == 0
	case 6:
		d, _ := bson.ParseDecimal128([]string{"1.5", "-0", "NaN", "1E+6144", "3"}[g.r.IntN(5)])
		return d
	case 7:
		return bson.DateTime(g.r.Int64N(1 << 42))
	case 8:
		return bson.Regex{Pattern: []string{"^a", "b+", "(", "a|$"}[g.r.IntN(4)], Options: "i"}
	case 9:
		return bson.A{}
	case 10:
		return bson.D{}
	case 11:
		return bson.MinKey{}
	case 12:
		return bson.Binary{Subtype: 0, Data: []byte{0xff}}
	case 13:
		return bson.ObjectID{1}
	case 14:
		return bson.Timestamp{T: 1, I: 1}
	}
	return int32(g.r.IntN(100))
}

func (g gen) anyValue(depth int) any {
	if depth > 3 {
		return g.scalar()
	}
	switch g.r.IntN(6) {
	case 0:
		arr := bson.A{}
		for range g.r.IntN(4) {
			arr = append(arr, g.anyValue(depth+1))
		}
		return arr
	case 1:
		d := bson.D{}
		for range g.r.IntN(3) {
			d = append(d, bson.E{Key: g.field(), Value: g.anyValue(depth + 1)})
		}
		return d
	}
	return g.scalar()
}

func (g gen) expression(depth int) any {
	if depth > 3 || g.r.IntN(3) == 0 {
		if g.r.IntN(2) == 0 {
			return "$" + g.pick([]string{"a", "b", "n", "a.b"})
		}
		return g.anyValue(depth)
	}
	op := g.pick(exprOps)
	n := g.r.IntN(4)
	args := bson.A{}
	for range n {
		args = append(args, g.expression(depth+1))
	}
	if g.r.IntN(3) == 0 {
		obj := bson.D{}
		for _, k := range []string{"input", "as", "cond", "in", "vars", "n", "sortBy", "date", "format", "unit", "amount", "to", "onError", "field", "value", "find", "regex", "if", "then", "else", "branches", "default", "initialValue"} {
			if g.r.IntN(4) == 0 {
				obj = append(obj, bson.E{Key: k, Value: g.expression(depth + 1)})
			}
		}
		return bson.D{{Key: op, Value: obj}}
	}
	return bson.D{{Key: op, Value: args}}
}

func (g gen) filter(depth int) bson.D {
	f := bson.D{}
	for range g.r.IntN(3) + 1 {
		switch {
		case depth < 2 && g.r.IntN(5) == 0:
			sub := bson.A{}
			for range g.r.IntN(3) {
				sub = append(sub, g.filter(depth+1))
			}
			f = append(f, bson.E{Key: g.pick(logicalOps), Value: sub})
		case g.r.IntN(8) == 0:
			f = append(f, bson.E{Key: "$expr", Value: g.expression(0)})
		case g.r.IntN(3) == 0:
			f = append(f, bson.E{Key: g.field(), Value: g.anyValue(1)})
		default:
			op := g.pick(queryOps)
			var arg any = g.anyValue(1)
			if op == "$elemMatch" || op == "$not" {
				arg = g.filter(depth + 1)
			}
			f = append(f, bson.E{Key: g.field(), Value: bson.D{{Key: op, Value: arg}}})
		}
	}
	return f
}

func (g gen) update() any {
	if g.r.IntN(4) == 0 {
		return bson.A{bson.D{{Key: g.pick([]string{"$set", "$unset", "$project", "$replaceWith"}), Value: bson.D{{Key: g.field(), Value: g.expression(0)}}}}}
	}
	u := bson.D{}
	for range g.r.IntN(2) + 1 {
		op := g.pick(updateOps)
		args := bson.D{{Key: g.field(), Value: g.anyValue(1)}}
		if op == "$push" && g.r.IntN(2) == 0 {
			args[0].Value = bson.D{{Key: "$each", Value: bson.A{g.scalar(), g.scalar()}}, {Key: "$slice", Value: g.scalar()}, {Key: "$sort", Value: g.anyValue(2)}, {Key: "$position", Value: g.scalar()}}
		}
		u = append(u, bson.E{Key: op, Value: args})
	}
	return u
}

func (g gen) pipeline() bson.A {
	p := bson.A{}
	for range g.r.IntN(4) + 1 {
		var spec any
		st := g.pick(stageNames)
		switch st {
		case "$match":
			spec = g.filter(0)
		case "$group":
			spec = bson.D{{Key: "_id", Value: g.expression(1)}, {Key: "v", Value: bson.D{{Key: g.pick(accumulator), Value: g.expression(1)}}}}
		case "$sort":
			spec = bson.D{{Key: g.field(), Value: g.direction()}}
		case "$skip", "$limit":
			spec = int32(g.r.IntN(5) + 1)
		case "$count", "$unset":
			spec = g.field()
		default:
			spec = bson.D{{Key: g.field(), Value: g.expression(0)}}
		}
		p = append(p, bson.D{{Key: st, Value: spec}})
	}
	return p
}

func (g gen) command() bson.D {
	switch g.r.IntN(7) {
	case 0:
		return bson.D{{Key: "find", Value: "c"}, {Key: "filter", Value: g.filter(0)}, {Key: "projection", Value: bson.D{{Key: g.field(), Value: []any{int32(1), int32(0), true, g.expression(1)}[g.r.IntN(4)]}}}, {Key: "sort", Value: bson.D{{Key: g.field(), Value: g.direction()}}}}
	case 1:
		return bson.D{{Key: "update", Value: "c"}, {Key: "updates", Value: bson.A{bson.D{{Key: "q", Value: g.filter(0)}, {Key: "u", Value: g.update()}, {Key: "upsert", Value: g.r.IntN(2) == 0}, {Key: "multi", Value: g.r.IntN(2) == 0}}}}}
	case 2:
		return bson.D{{Key: "aggregate", Value: "c"}, {Key: "pipeline", Value: g.pipeline()}, {Key: "cursor", Value: bson.D{}}}
	case 3:
		return bson.D{{Key: "findAndModify", Value: "c"}, {Key: "query", Value: g.filter(0)}, {Key: "update", Value: g.update()}, {Key: "upsert", Value: true}, {Key: "new", Value: g.r.IntN(2) == 0}}
	case 4:
		return bson.D{{Key: "delete", Value: "c"}, {Key: "deletes", Value: bson.A{bson.D{{Key: "q", Value: g.filter(0)}, {Key: "limit", Value: int32(g.r.IntN(2))}}}}}
	case 5:
		return bson.D{{Key: "createIndexes", Value: "c"}, {Key: "indexes", Value: bson.A{bson.D{{Key: "key", Value: bson.D{{Key: g.field(), Value: g.scalar()}}}, {Key: "name", Value: strconv.Itoa(g.r.IntN(5))}, {Key: "unique", Value: g.r.IntN(3) == 0}, {Key: "sparse", Value: g.r.IntN(3) == 0}}}}}
	}
	return bson.D{{Key: "insert", Value: "c"}, {Key: "documents", Value: bson.A{bson.D{{Key: "a", Value: g.anyValue(0)}, {Key: "b", Value: g.anyValue(0)}, {Key: "n", Value: g.scalar()}}}}}
}

// TestRandomCommandsNeverFailInternally sends random well-formed commands to one server
// and requires each reply to be a success or a MongoDB error, never InternalError.
// MODJO_RANDOM_COMMANDS raises the number of commands for a longer search.
func TestRandomCommandsNeverFailInternally(t *testing.T) {
	n := 3000
	if s := os.Getenv("MODJO_RANDOM_COMMANDS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	g := gen{r: rand.New(rand.NewPCG(1, 2))}
	s := New(Config{ReplicaSet: "rs0"})
	for i := range n {
		body := append(g.command(), bson.E{Key: "$db", Value: "db"})
		reply := s.run(&request{conn: &conn{}, body: body})
		if code, _ := value.Get(reply, "code").(int32); code == mongoerr.InternalError {
			t.Fatalf("command %d: internal error for %s: %v", i, value.Format(body), value.Get(reply, "errmsg"))
		}
	}
}
