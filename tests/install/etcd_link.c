/* Links the fleet library from an installed tree: librouter-etcd.so (or
 * .a) and, through it, librouter.  Prints the library version and the
 * default status prefix of a document key. */
#include <stdio.h>
#include <string.h>

#include <librouter/router.h>
#include <librouter/router_etcd.h>

int main(void)
{
	char buf[128];
	size_t n = router_etcd_default_status_prefix("/librouter/doc", buf,
	                                             sizeof buf);

	if (n == 0 || n >= sizeof buf)
		return 1;
	printf("librouter %s, status prefix %s\n",
	       router_library_version_string(), buf);
	return 0;
}
