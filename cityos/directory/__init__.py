"""Directory: organisations (政务部门 / 公共服务企业 / 社会组织) and their people."""
