package expr_test

import (
	"github.com/modjo-orm/modjo/internal/engine/expr"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// accTestEnv fixes $$NOW for accumulator tests. The group.json cases run through the
// real $group stage in internal/engine/agg.
var accTestEnv = &expr.Env{Now: bson.DateTime(1577836800000)}
