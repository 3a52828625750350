package agg

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/expr"
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"github.com/modjo-orm/modjo/internal/engine/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$group", parseGroup)
}

type groupField struct {
	name string
	acc  *expr.Accumulator
}

type groupStage struct {
	id     *expr.Expr
	fields []groupField
}

func parseGroup(spec any, o *Options) (stage, error) {
	d, ok := spec.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(15947, "a group's fields must be specified in an object")
	}
	g := &groupStage{}
	for _, e := range d {
		if e.Key == "_id" {
			id, err := expr.Compile(e.Value, o.Vars...)
			if err != nil {
				return nil, err
			}
			g.id = id
			continue
		}
		f, err := parseAccumulatorField(e, expr.InGroup, o)
		if err != nil {
			return nil, err
		}
		g.fields = append(g.fields, f)
	}
	if g.id == nil {
		return nil, mongoerr.Newf(15955, "a group specification must include an _id")
	}
	return g, nil
}

// parseAccumulatorField compiles one output field of $group or $bucket: {name: {$acc: arg}}.
func parseAccumulatorField(e bson.E, where expr.AccumulatorContext, o *Options) (groupField, error) {
	if strings.HasPrefix(e.Key, "$") {
		return groupField{}, mongoerr.Newf(40236, "The field name '%s' cannot be an operator name", e.Key)
	}
	if strings.Contains(e.Key, ".") {
		return groupField{}, mongoerr.Newf(40235, "The field name '%s' cannot contain '.'", e.Key)
	}
	acc, ok := e.Value.(bson.D)
	if !ok {
		return groupField{}, mongoerr.Newf(40234, "The field '%s' must be an accumulator object", e.Key)
	}
	if len(acc) != 1 {
		return groupField{}, mongoerr.Newf(40238, "The field '%s' must specify one accumulator", e.Key)
	}
	a, err := expr.CompileAccumulator(acc[0].Key, acc[0].Value, where, o.Vars...)
	if err != nil {
		return groupField{}, err
	}
	return groupField{name: e.Key, acc: a}, nil
}

// group is one output group.
type group struct {
	key    any
	states []expr.State
}

func (g *groupStage) run(c *Context, in Stream) Stream {
	return func(yield func(bson.D, error) bool) {
		var order []*group
		buckets := map[uint64][]*group{}
		seed := maphash.MakeSeed()
		for d, err := range in {
			if err != nil {
				yield(nil, err)
				return
			}
			key, err := g.id.Eval(c.Env, d)
			if err != nil {
				yield(nil, err)
				return
			}
			if value.IsMissing(key) {
				key = nil
			}
			h := hashValue(seed, key)
			var grp *group
			for _, cand := range buckets[h] {
				if value.Compare(cand.key, key) == 0 {
					grp = cand
					break
				}
			}
			if grp == nil {
				grp = &group{key: key, states: make([]expr.State, len(g.fields))}
				for i, f := range g.fields {
					if grp.states[i], err = f.acc.NewGroupState(c.Env, key); err != nil {
						yield(nil, err)
						return
					}
				}
				buckets[h] = append(buckets[h], grp)
				order = append(order, grp)
			}
			for _, st := range grp.states {
				if err := st.Add(c.Env, d); err != nil {
					yield(nil, err)
					return
				}
			}
		}
		for _, grp := range order {
			out := make(bson.D, 0, len(g.fields)+1)
			out = append(out, bson.E{Key: "_id", Value: grp.key})
			for i, f := range g.fields {
				v, err := grp.states[i].Result()
				if err != nil {
					yield(nil, err)
					return
				}
				out = append(out, bson.E{Key: f.name, Value: v})
			}
			if !yield(out, nil) {
				return
			}
		}
	}
}

// hashValue hashes a value consistently with value.Compare equality: numbers that are
// equal across types (1, 1.0, NumberLong(1), NumberDecimal("1.00")) hash alike.
func hashValue(seed maphash.Seed, v any) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	writeHash(&h, v)
	return h.Sum64()
}

func writeHash(h *maphash.Hash, v any) {
	var buf [8]byte
	switch x := v.(type) {
	case int32, int64, float64, bson.Decimal128:
		h.WriteByte(10)
		f, _ := value.ToFloat64(x)
		if math.IsNaN(f) {
			f = math.NaN()
		}
		if f == 0 {
			f = 0 // -0 and 0 are equal
		}
		binary.LittleEndian.PutUint64(buf[:], math.Float64bits(f))
		h.Write(buf[:])
	case string:
		h.WriteByte(15)
		h.WriteString(x)
	case bson.Symbol:
		h.WriteByte(15)
		h.WriteString(string(x))
	case bson.D:
		h.WriteByte(20)
		for _, e := range x {
			h.WriteString(e.Key)
			h.WriteByte(0)
			writeHash(h, e.Value)
		}
	case bson.A:
		h.WriteByte(25)
		for _, e := range x {
			writeHash(h, e)
		}
	case bson.ObjectID:
		h.WriteByte(35)
		h.Write(x[:])
	case bool:
		h.WriteByte(40)
		if x {
			h.WriteByte(1)
		}
	case bson.DateTime:
		h.WriteByte(45)
		binary.LittleEndian.PutUint64(buf[:], uint64(x))
		h.Write(buf[:])
	default:
		// Rarer types share one bucket per type; value.Compare separates them.
		binary.LittleEndian.PutUint32(buf[:], uint32(value.TypeOf(v)))
		h.Write(buf[:4])
	}
}
