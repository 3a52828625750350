package expr

// Miscellaneous operators: $rand.

import (
	"math/rand/v2"

	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func init() {
	register("$rand", parseRand)
}

// randNode returns a double in [0, 1). It is never folded: each evaluation draws anew.
type randNode struct{}

func parseRand(args any, _ *scope) (node, error) {
	d, ok := args.(bson.D)
	if !ok {
		return nil, mongoerr.Newf(10065, "invalid parameter: expected an object ($rand)")
	}
	if len(d) != 0 {
		return nil, mongoerr.Newf(3040501, "$rand does not currently accept arguments")
	}
	return randNode{}, nil
}

func (randNode) eval(*ctx) (any, error) { return rand.Float64(), nil }
