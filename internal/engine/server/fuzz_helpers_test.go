package server

import (
	"github.com/modjo-orm/modjo/internal/engine/storage"
	"go.mongodb.org/mongo-driver/v2/bson"
)

type (
	txAlias      = storage.Tx
	writeOptions = storage.WriteOptions
)

func prepare(d bson.D) (bson.D, []byte, error) { return storage.PrepareDocument(d, nil) }
