package modjo

import (
	"context"
	"fmt"

	"github.com/modjo-orm/modjo/model"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnsureIndexes creates the collection of every registered model and every index its
// metadata asks for (unique and index fields, Meta Indexes, UniqueConstraints — partial
// when conditional — and UniqueTogether). Existing collections and identical indexes
// are left alone, so it can run at every start; an index that exists under the same
// name with other options is an error naming the model. Migrations replace this later.
func (db *DB) EnsureIndexes(ctx context.Context) error {
	for _, meta := range db.reg.Models() {
		if meta.Embedded {
			continue
		}
		if err := db.ensureModel(ctx, meta); err != nil {
			return err
		}
	}
	return nil
}

func (db *DB) ensureModel(ctx context.Context, meta *model.Meta) error {
	err := db.database.CreateCollection(ctx, meta.Collection)
	if err != nil && !hasCode(err, 48) { // NamespaceExists
		return fmt.Errorf("modjo: ensure indexes of %s: create collection %q: %w", meta.Name, meta.Collection, err)
	}
	specs := meta.IndexSpecs()
	if len(specs) == 0 {
		return nil
	}
	models := make([]mongo.IndexModel, len(specs))
	for i, s := range specs {
		o := options.Index()
		if s.Name != "" {
			o.SetName(s.Name)
		}
		if s.Unique {
			o.SetUnique(true)
		}
		if s.Sparse {
			o.SetSparse(true)
		}
		if s.PartialFilter != nil {
			o.SetPartialFilterExpression(s.PartialFilter)
		}
		if s.ExpireAfterSeconds != nil {
			o.SetExpireAfterSeconds(*s.ExpireAfterSeconds)
		}
		models[i] = mongo.IndexModel{Keys: s.Keys, Options: o}
	}
	if _, err := db.Collection(meta).Indexes().CreateMany(ctx, models); err != nil {
		return fmt.Errorf("modjo: ensure indexes of %s (collection %q): %w", meta.Name, meta.Collection, err)
	}
	return nil
}
