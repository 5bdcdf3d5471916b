#include "config.h"

#include <stdbool.h>
#include <string.h>

#include "id.h"

static bool id_char_ok(char c, bool first)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return !first && (c == '_' || c == '.' || c == '+' || c == '-');
}

int runk_id_validate(const char *id, runk_error_t *err)
{
	size_t len;

	if (id == NULL || *id == '\0')
		return runk_error(err, "container id cannot be empty");
	len = strnlen(id, RUNK_ID_MAX + 1);
	if (len > RUNK_ID_MAX)
		return runk_error(err, "container id is longer than %d bytes", RUNK_ID_MAX);
	for (size_t i = 0; i < len; i++) {
		if (!id_char_ok(id[i], i == 0))
			return runk_error(err, "invalid character `%c` in the container id `%s`",
					  id[i], id);
	}
	return 0;
}
