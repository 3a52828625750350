package agg

import (
	"github.com/modjo-orm/modjo/internal/engine/mongoerr"
)

// Stages mongotest recognizes but does not run. Each fails at compile time with the error
// a mongod without the feature gives, so a test never passes on a silently wrong answer.

func init() {
	// The Atlas Search stages need a search server (mongot); a mongod without one
	// answers SearchNotEnabled.
	for _, name := range []string{"$search", "$searchMeta", "$vectorSearch", "$listSearchIndexes"} {
		register(name, searchNotEnabled(name))
	}
	register("$geoNear", func(any, *Options) (stage, error) {
		return nil, mongoerr.Newf(mongoerr.NotImplemented, "$geoNear is not implemented by mongotest")
	})
}

func searchNotEnabled(name string) parseFunc {
	return func(any, *Options) (stage, error) {
		return nil, mongoerr.Newf(mongoerr.SearchNotEnabled, "%s is not supported by mongotest: it needs Atlas Search (mongot), which mongotest does not provide", name)
	}
}
