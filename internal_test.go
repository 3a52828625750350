package modjo

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestTextList(t *testing.T) {
	assert.Equal(t, "", textList(nil, "and"))
	assert.Equal(t, "A", textList([]string{"A"}, "and"))
	assert.Equal(t, "A and B", textList([]string{"A", "B"}, "and"))
	assert.Equal(t, "A, B and C", textList([]string{"A", "B", "C"}, "and"))
}

func TestCapFirst(t *testing.T) {
	assert.Equal(t, "", capFirst(""))
	assert.Equal(t, "Book review", capFirst("book review"))
	assert.Equal(t, "ÉTé", capFirst("éTé"))
	assert.Equal(t, "ID", capFirst("ID"))
}

func TestFormatPK(t *testing.T) {
	id, _ := bson.ObjectIDFromHex("0123456789abcdef01234567")
	assert.Equal(t, "0123456789abcdef01234567", formatPK(id))
	assert.Equal(t, `"fr"`, formatPK("fr"))
	assert.Equal(t, "42", formatPK(int64(42)))
	assert.Equal(t, "", formatPK(nil))
	u := bson.Binary{Subtype: 4, Data: []byte{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0}}
	assert.Equal(t, "12345678-9abc-def0-1234-56789abcdef0", formatPK(u))
	assert.Equal(t, `{group: "a", n: 1}`, formatPK(bson.D{{Key: "group", Value: "a"}, {Key: "n", Value: int32(1)}}))
}
