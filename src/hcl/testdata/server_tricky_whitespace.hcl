	storage	"rocksdb"	{	path	=	"/tmp/tabs"	}
listener "tcp"{address="127.0.0.1:8200"
tls_disable=1}


   ui=true     api_addr    =    "http://127.0.0.1:8200"
