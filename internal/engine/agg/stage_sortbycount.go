package agg

import (
	"strings"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$sortByCount", parseSortByCount)
}

// chainStage runs stages one after the other: the expansion of a stage that mongod
// defines as a sequence of others.
type chainStage []stage

func (ch chainStage) run(c *Context, in Stream) Stream {
	for _, st := range ch {
		in = st.run(c, in)
	}
	return in
}

// parseSortByCount expands {$sortByCount: <expr>} as mongod does, into
// {$group: {_id: <expr>, count: {$sum: 1}}} then {$sort: {count: -1}}.
func parseSortByCount(spec any, o *Options) (stage, error) {
	switch x := spec.(type) {
	case bson.D:
		if len(x) == 0 || !strings.HasPrefix(x[0].Key, "$") {
			return nil, mongoerr.Newf(40147, "the sortByCount field must be defined as a $-prefixed path or an expression inside an object")
		}
	case string:
		if !strings.HasPrefix(x, "$") {
			return nil, mongoerr.Newf(40148, "the sortByCount field must be defined as a $-prefixed path or an expression inside an object")
		}
	default:
		return nil, mongoerr.Newf(40149, "the sortByCount field must be specified as a string or as an object")
	}
	group, err := parseGroup(bson.D{
		{Key: "_id", Value: spec},
		{Key: "count", Value: bson.D{{Key: "$sum", Value: int32(1)}}},
	}, o)
	if err != nil {
		return nil, err
	}
	sort, err := parseSort(bson.D{{Key: "count", Value: int32(-1)}}, o)
	if err != nil {
		return nil, err
	}
	return chainStage{group, sort}, nil
}
